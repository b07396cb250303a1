-- The points program (issue 4): one row, the spec as the shop wrote it,
-- with a version for compare-and-set.
CREATE TABLE loyalty_program (
    id          TEXT    PRIMARY KEY,
    spec        TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

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
