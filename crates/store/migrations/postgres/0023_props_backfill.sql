-- Events processed before the audiences migration kept no properties for
-- segment filters: the server fills them in from the log in the background
-- (SegmentFacts::backfill_props), from the first event up to the last one
-- stored now; `props_backfill_from` is where it goes on after a restart.
INSERT INTO meta (key, value)
SELECT 'props_backfill_upto', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM events WHERE kind = 'track' AND props IS NULL
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
INSERT INTO meta (key, value) VALUES ('props_backfill_from', '0') ON CONFLICT (key) DO NOTHING;
