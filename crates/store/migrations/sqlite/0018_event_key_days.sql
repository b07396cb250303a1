-- The dedupe set keeps keys for a window of days (see
-- crates/store/src/sql/dedupe_memory.rs): each run records the UTC day
-- (days since 1970-01-01) its keys were processed on. Runs written before
-- count as processed on the day of this upgrade.
ALTER TABLE event_key_runs ADD COLUMN day BIGINT;
UPDATE event_key_runs SET day = CAST(strftime('%s', 'now') AS INTEGER) / 86400;
