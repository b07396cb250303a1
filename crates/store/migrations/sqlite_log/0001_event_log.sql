-- The event log: append-only, ordered by seq (the rowid), written by one
-- group-committing writer. No secondary index: an append touches one B-tree
-- page at its right edge.
CREATE TABLE event_log (
    seq          INTEGER PRIMARY KEY,
    source_id    TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    ts           INTEGER NOT NULL,
    payload      TEXT    NOT NULL
);
