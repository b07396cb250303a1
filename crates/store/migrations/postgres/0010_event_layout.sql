-- Processed events for a batched processor (see crates/store/src/sql/events.rs).
-- The store moves older data directories over at open: `events` rows lose
-- source, messageId, arrival time and payload (read from the log by seq) and
-- their indexes, and these tables are filled from them (the dedupe hash
-- needs the store's key, so it is done in Rust, not here).

-- Dedupe keys: a 16-byte keyed hash of (source, messageId).
CREATE TABLE event_keys (
    key BYTEA PRIMARY KEY
);

-- One row per profile (product) per processed batch: the (seq, time) of its
-- events in that batch, 16 bytes each; `seq` is the first event's.
CREATE TABLE timeline (
    profile_id TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    entries    BYTEA   NOT NULL,
    PRIMARY KEY (profile_id, seq)
);

CREATE TABLE product_timeline (
    product    TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    entries    BYTEA   NOT NULL,
    PRIMARY KEY (product, seq)
);
