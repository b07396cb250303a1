-- A merge on the embedded store (the event layout of 0011 until this fix)
-- moved all but one of the merged profile's events to the survivor: give
-- the rest to the survivor now (`merges.survivor_id` is always the last one
-- of a chain of merges).
UPDATE events SET profile_id = (SELECT survivor_id FROM merges WHERE merged_id = events.profile_id)
WHERE profile_id IN (SELECT merged_id FROM merges);
