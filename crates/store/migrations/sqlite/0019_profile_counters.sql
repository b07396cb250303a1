-- A live profile's counters in a narrow table of their own. Nearly every
-- event only adds to them, and at a million profiles a batch updating
-- 20,000 of them dirtied a page of `profiles` (rows of ~500 bytes: the
-- sealed traits) per profile, all written to the WAL again at commit; here
-- a row is ~60 bytes and the table stays in the processor's page cache.
-- A merged profile has no row (the survivor's counts hold its events).
-- `profiles.updated_at` is now when its traits or orders last changed.
CREATE TABLE profile_counters (
    id           TEXT    PRIMARY KEY,
    first_seen   BIGINT  NOT NULL,
    last_seen    BIGINT  NOT NULL,
    event_count  BIGINT  NOT NULL
) WITHOUT ROWID;
INSERT INTO profile_counters (id, first_seen, last_seen, event_count)
SELECT id, first_seen, last_seen, event_count FROM profiles WHERE merged_into IS NULL;
ALTER TABLE profiles DROP COLUMN first_seen;
ALTER TABLE profiles DROP COLUMN last_seen;
ALTER TABLE profiles DROP COLUMN event_count;
