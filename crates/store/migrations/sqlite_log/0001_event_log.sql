-- The event log: append-only chunks, one per group commit, ordered by seq
-- (the rowid). A record's sequence number is (seq << 20) | its index in the
-- chunk. No secondary index: an append writes one row at the right edge.
CREATE TABLE log_chunks (
    seq      INTEGER PRIMARY KEY,
    count    INTEGER NOT NULL,
    body     BLOB    NOT NULL
);
