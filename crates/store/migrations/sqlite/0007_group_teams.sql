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
