-- The event log: append-only chunks, one per group commit. A record's
-- sequence number is (seq << 20) | its index in the chunk. Appends take an
-- advisory lock so chunk numbers commit in order across nodes.
CREATE TABLE log_chunks (
    seq      BIGSERIAL PRIMARY KEY,
    count    INTEGER NOT NULL,
    body     BYTEA   NOT NULL
);

CREATE TABLE processor_offsets (
    name    TEXT   PRIMARY KEY,
    seq     BIGINT NOT NULL
);

CREATE TABLE profiles (
    id           TEXT    PRIMARY KEY,
    merged_into  TEXT,
    traits       TEXT    NOT NULL,
    trait_times  TEXT    NOT NULL,
    first_seen   BIGINT  NOT NULL,
    last_seen    BIGINT  NOT NULL,
    event_count  BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX profiles_live ON profiles (created_at, id) WHERE merged_into IS NULL;

-- One row per (identity, profile): an identity may be shared by profiles.
-- value holds the plain text for non-personal kinds, value_enc the ciphertext
-- for email and phone; lookup is the keyed hash of kind and value.
CREATE TABLE identities (
    kind        TEXT   NOT NULL,
    lookup      BYTEA  NOT NULL,
    profile_id  TEXT   NOT NULL,
    value       TEXT,
    value_enc   TEXT,
    first_seen  BIGINT NOT NULL,
    PRIMARY KEY (kind, lookup, profile_id)
);
CREATE INDEX identities_profile ON identities (profile_id);

-- Processed events: one row per (source, messageId); the timeline.
CREATE TABLE events (
    seq          BIGINT PRIMARY KEY,
    profile_id   TEXT   NOT NULL,
    source_id    TEXT   NOT NULL,
    message_id   TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    name         TEXT,
    ts           BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    payload      TEXT   NOT NULL,
    UNIQUE (source_id, message_id)
);
CREATE INDEX events_timeline ON events (profile_id, ts DESC, seq DESC);

CREATE TABLE merges (
    survivor_id  TEXT   NOT NULL,
    merged_id    TEXT   NOT NULL PRIMARY KEY,
    at           BIGINT NOT NULL,
    reason       TEXT   NOT NULL,
    message_id   TEXT   NOT NULL
);
CREATE INDEX merges_survivor ON merges (survivor_id);

CREATE TABLE api_keys (
    id          TEXT   PRIMARY KEY,
    name        TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    role        TEXT,
    hash        BYTEA  NOT NULL UNIQUE,
    prefix      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT  NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    before   TEXT,
    after    TEXT
);
