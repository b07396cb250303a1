-- Promotions (issue 4): the spec as the shop wrote it (JSON text), its
-- lifecycle status and a version bumped by every change, for
-- compare-and-set.
CREATE TABLE promotions (
    id          TEXT    PRIMARY KEY,
    status      TEXT    NOT NULL,
    spec        TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX promotions_status ON promotions (status, id);

-- How much of each limit is used: one row per (promotion, limit, period,
-- subject) key, as `beacon_pricing::limits::counter_keys` names it.
CREATE TABLE promotion_counters (
    key        TEXT    PRIMARY KEY,
    promotion  TEXT    NOT NULL,
    used       BIGINT  NOT NULL
);
CREATE INDEX promotion_counters_promotion ON promotion_counters (promotion);

-- Committed checkouts, by idempotency key: what was priced and what it took
-- from which counters, so a retry answers the same and a cancellation or
-- refund can give back exactly what was taken.
CREATE TABLE checkouts (
    idempotency_key  TEXT    PRIMARY KEY,
    order_id         TEXT    NOT NULL UNIQUE,
    request_hash     TEXT    NOT NULL,
    profile_id       TEXT,
    takes            TEXT    NOT NULL,
    result           TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL
);
CREATE INDEX checkouts_created ON checkouts (created_at);

-- What was given back to the counters, once per return id (a refund's or
-- cancellation's id), so a retried refund returns nothing twice.
CREATE TABLE counter_returns (
    return_id  TEXT    PRIMARY KEY,
    order_id   TEXT    NOT NULL,
    takes      TEXT    NOT NULL,
    at         BIGINT  NOT NULL
);
CREATE INDEX counter_returns_order ON counter_returns (order_id);
