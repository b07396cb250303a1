-- Each buyer's lifecycle stage as last decided (beacon_insight::lifecycle)
-- and since when; a profile without a row is `potential`.
CREATE TABLE profile_stages (
    profile_id  TEXT    PRIMARY KEY,
    stage       TEXT    NOT NULL,
    since       BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX profile_stages_stage ON profile_stages (stage, profile_id);
