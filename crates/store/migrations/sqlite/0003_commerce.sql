-- Commerce (issue 3): orders, after-sales records, reviews, and each
-- profile's order figures. Money is integer minor units with its currency;
-- times are microseconds since the epoch, UTC.

-- The profile's order figures (beacon_core::commerce::order::OrderFigures) as JSON.
ALTER TABLE profiles ADD COLUMN orders TEXT NOT NULL DEFAULT '{}';

CREATE TABLE orders (
    order_id        TEXT    PRIMARY KEY,
    profile_id      TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    total_minor     BIGINT  NOT NULL,
    discount_minor  BIGINT  NOT NULL,
    refunded_minor  BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    coupon          TEXT,
    placed_at       BIGINT  NOT NULL,
    message_id      TEXT    NOT NULL,
    -- the lines with their shares of the total and refunded units, as JSON
    lines           TEXT    NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX orders_profile ON orders (profile_id, placed_at);
CREATE INDEX orders_placed ON orders (placed_at);

-- Refunds and cancellations as they arrived, applied or not (and why not).
CREATE TABLE after_sales (
    id              INTEGER PRIMARY KEY,
    seq             BIGINT  NOT NULL UNIQUE,
    order_id        TEXT    NOT NULL,
    profile_id      TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    amount_minor    BIGINT  NOT NULL,
    currency        TEXT,
    reason          TEXT,
    outcome         TEXT    NOT NULL,
    lines           TEXT    NOT NULL,
    at              BIGINT  NOT NULL,
    message_id      TEXT    NOT NULL
);
CREATE INDEX after_sales_order ON after_sales (order_id, at);

CREATE TABLE reviews (
    seq          BIGINT  PRIMARY KEY,
    review_id    TEXT,
    profile_id   TEXT    NOT NULL,
    product_id   TEXT    NOT NULL,
    rating       REAL,
    body         TEXT,
    at           BIGINT  NOT NULL
);
CREATE INDEX reviews_product ON reviews (product_id, at);
CREATE INDEX reviews_profile ON reviews (profile_id, at);
