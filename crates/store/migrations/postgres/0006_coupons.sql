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
