-- Who is in which group-buy team (a team's members, as its state holds
-- them), so a customer's teams are found without reading every team.
-- Written with the team; filled here from the teams written before.
CREATE TABLE group_team_members (
    buyer    TEXT NOT NULL,
    team_id  TEXT NOT NULL,
    PRIMARY KEY (buyer, team_id)
);
CREATE INDEX group_team_members_team ON group_team_members (team_id);

INSERT OR IGNORE INTO group_team_members (buyer, team_id)
SELECT json_extract(m.value, '$.buyer'), t.id FROM group_teams t, json_each(t.state, '$.members') m
WHERE json_extract(m.value, '$.buyer') IS NOT NULL;
