-- What the real-time segment stage keeps of a profile's events between
-- batches (beacon_segment::keep), under the stamp of the saved segments'
-- retention; `meta.segment_events_stamp` says which stamp every row is of.
CREATE TABLE segment_events (
    profile_id TEXT PRIMARY KEY,
    stamp BIGINT NOT NULL,
    events TEXT NOT NULL
);
