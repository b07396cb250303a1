-- The dedupe set keeps keys for a window of days (see
-- crates/store/src/sql/dedupe_memory.rs): each run records the UTC day
-- (days since 1970-01-01) its keys were processed on. Runs written before
-- count as processed on the day of this upgrade. `day` goes before the
-- keys: a column after a blob of megabytes is reached only by walking the
-- blob's overflow pages, and each batch asks for the runs' days.
CREATE TABLE event_key_runs_by_day (
    id    INTEGER PRIMARY KEY,
    n     INTEGER NOT NULL,
    day   BIGINT  NOT NULL,
    keys  BLOB    NOT NULL
);
INSERT INTO event_key_runs_by_day (id, n, day, keys)
SELECT id, n, CAST(strftime('%s', 'now') AS INTEGER) / 86400, keys FROM event_key_runs;
DROP TABLE event_key_runs;
ALTER TABLE event_key_runs_by_day RENAME TO event_key_runs;
