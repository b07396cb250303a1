-- What checkouts commit now lives in checkout.db (see sqlite_checkout/0001);
-- the store copied these tables' rows there before this migration runs.
DROP TABLE promotion_counters;
DROP TABLE checkouts;
DROP TABLE counter_returns;
DROP TABLE coupons;
DROP TABLE group_teams;
DROP TABLE points_lots;
DROP TABLE points_moves;
