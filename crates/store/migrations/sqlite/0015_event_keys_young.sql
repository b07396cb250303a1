-- The newest dedupe keys (see crates/store/src/sql/process.rs, `claim`): a
-- batch inserts its keys here, into a table small enough that the pages it
-- dirties are few, and past a size they move to `event_keys` in one sorted
-- pass (each of its pages written once, not once per batch).
CREATE TABLE event_keys_young (
    key BLOB PRIMARY KEY
) WITHOUT ROWID;
