-- Audiences (issue 16).
-- An event's properties a segment can filter on (beacon_segment::properties),
-- as compact JSON with personal values sealed; NULL when it has none (and
-- for events processed before this version).
ALTER TABLE events ADD COLUMN props TEXT;

-- Tags on profiles: family (basic, interest, spending, loyalty, risk or
-- another), where it came from (rule, computed, manual) and when.
CREATE TABLE profile_tags (
    profile_id  TEXT    NOT NULL,
    tag         TEXT    NOT NULL,
    family      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (profile_id, tag)
) WITHOUT ROWID;
CREATE INDEX profile_tags_tag ON profile_tags (tag, profile_id);

-- Each profile's latest word on a purpose (email, sms, wechat…).
CREATE TABLE consents (
    profile_id  TEXT    NOT NULL,
    purpose     TEXT    NOT NULL,
    granted     INTEGER NOT NULL,
    at          BIGINT  NOT NULL,
    PRIMARY KEY (profile_id, purpose)
) WITHOUT ROWID;
CREATE INDEX consents_purpose ON consents (purpose, granted, profile_id);

-- Saved segments: the condition as JSON (beacon_segment::Condition), its
-- members (kept up to date by the processor), and the count per hour.
CREATE TABLE segments (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    description   TEXT,
    definition    TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    version       BIGINT  NOT NULL,
    members       BIGINT  NOT NULL,
    evaluated_at  BIGINT,
    created_by    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE segment_members (
    segment_id  TEXT    NOT NULL,
    profile_id  TEXT    NOT NULL,
    since       BIGINT  NOT NULL,
    PRIMARY KEY (segment_id, profile_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_profile ON segment_members (profile_id);

CREATE TABLE segment_counts (
    segment_id  TEXT    NOT NULL,
    hour        BIGINT  NOT NULL,
    members     BIGINT  NOT NULL,
    PRIMARY KEY (segment_id, hour)
) WITHOUT ROWID;
