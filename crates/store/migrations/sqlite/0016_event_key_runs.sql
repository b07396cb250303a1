-- The embedded store's dedupe set (see crates/store/src/sql/dedupe_memory.rs):
-- held in memory by the one process that writes it, and kept on disk as
-- runs, one row per processed batch (its new keys, 16 bytes each, `n` of
-- them), merged once there are many small ones. A batch appends one row
-- instead of a random index entry per event. Keys in `event_keys` and
-- `event_keys_young` (written before) are read at load as well.
CREATE TABLE event_key_runs (
    id    INTEGER PRIMARY KEY,
    n     INTEGER NOT NULL,
    keys  BLOB    NOT NULL
);
