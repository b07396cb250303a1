-- checkout.db (issue 4): everything a checkout commits, in a file of its
-- own so an order never waits for the processor's write lock on beacon.db.
-- The tables are as migrations 0005-0008 of beacon.db made them (0009 moves
-- their rows here and drops them there).

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

-- Unique coupon codes (issue 4), issued from a coupon template (a promotion
-- with `codes`) to a profile, or to nobody (a bearer code). Whether a code
-- is used is its counter's (`<promotion>|code|total|coupon:<CODE>` in
-- promotion_counters), which a checkout takes like any limit; how many were
-- issued, and how many each profile holds, are counters too.
CREATE TABLE coupons (
    code         TEXT    PRIMARY KEY,
    promotion    TEXT    NOT NULL,
    profile_id   TEXT,
    -- claim, operator, signup, journey
    channel      TEXT    NOT NULL,
    -- unique per template: an issue retried with the same key does nothing
    issue_key    TEXT    NOT NULL,
    issued_at    BIGINT  NOT NULL,
    valid_from   BIGINT,
    valid_until  BIGINT,
    UNIQUE (promotion, issue_key)
);
CREATE INDEX coupons_profile ON coupons (profile_id, issued_at);
CREATE INDEX coupons_promotion ON coupons (promotion, issued_at, code);

-- Group-buy teams (issue 4): the team as JSON
-- (`beacon_pricing::groupbuy::Team`), with its status and expiry as columns
-- for the lists and the expiry sweep, and a version for compare-and-set: a
-- member joins in the same transaction as their checkout, only if the team
-- is still at the version the join was worked out from.
CREATE TABLE group_teams (
    id          TEXT    PRIMARY KEY,
    promotion   TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    state       TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX group_teams_status ON group_teams (status, expires_at);
CREATE INDEX group_teams_promotion ON group_teams (promotion, status, expires_at);

-- Points lots: one per earning (`order:<order id>`, `event:<seq>`), what
-- refunds left of it (`points`), what is not spent (`left_points`, below
-- zero for a debt), when it vests and expires.
CREATE TABLE points_lots (
    id           TEXT    PRIMARY KEY,
    profile_id   TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    order_id     TEXT,
    -- as earned; refunds take back a share of this
    earned       BIGINT  NOT NULL,
    points       BIGINT  NOT NULL,
    left_points  BIGINT  NOT NULL,
    earned_at    BIGINT  NOT NULL,
    vests_at     BIGINT  NOT NULL,
    expires_at   BIGINT
);
CREATE INDEX points_lots_profile ON points_lots (profile_id, earned_at);
CREATE INDEX points_lots_earned ON points_lots (earned_at, profile_id);

-- Points given back to their lots (a refunded order's redemption), once per key.
CREATE TABLE points_moves (
    key       TEXT    PRIMARY KEY,
    order_id  TEXT    NOT NULL,
    takes     TEXT    NOT NULL,
    at        BIGINT  NOT NULL
);
CREATE INDEX points_moves_order ON points_moves (order_id);
