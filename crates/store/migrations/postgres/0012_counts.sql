-- Running totals the processor keeps in each batch's transaction, so the
-- overview reads two rows instead of counting every event and profile.
CREATE TABLE IF NOT EXISTS counts (
    name   TEXT   PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO counts (name, value) SELECT 'events', COUNT(*) FROM events WHERE true
    ON CONFLICT (name) DO UPDATE SET value = excluded.value;
INSERT INTO counts (name, value) SELECT 'profiles', COUNT(*) FROM profiles WHERE merged_into IS NULL
    ON CONFLICT (name) DO UPDATE SET value = excluded.value;
