-- Identities appended in the order of an id that is never reused, without
-- an index on the random lookup hash: the store keeps that index in memory
-- (see crates/store/src/sql/identity_index.rs), since every batch of new
-- shoppers rewrote nearly every page of it. One row per (identity,
-- profile) is now kept by the processor, which alone writes this table.
CREATE TABLE identities_appended (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT   NOT NULL,
    lookup      BLOB   NOT NULL,
    profile_id  TEXT   NOT NULL,
    value       TEXT,
    value_enc   TEXT,
    first_seen  BIGINT NOT NULL
);
INSERT INTO identities_appended (kind, lookup, profile_id, value, value_enc, first_seen)
SELECT kind, lookup, profile_id, value, value_enc, first_seen FROM identities ORDER BY rowid;
DROP TABLE identities;
ALTER TABLE identities_appended RENAME TO identities;
CREATE INDEX identities_profile ON identities (profile_id);
