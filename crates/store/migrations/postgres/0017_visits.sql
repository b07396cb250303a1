-- Who visited (viewed a page or screen, or did an action) in each UTC
-- quarter hour: the dashboard's visitors per day of any offset in use,
-- without reading the events. Written by the processor with the events;
-- filled here from the events processed before.
CREATE TABLE visits (
    quarter     BIGINT NOT NULL,
    profile_id  TEXT   NOT NULL,
    PRIMARY KEY (quarter, profile_id)
);
CREATE INDEX visits_profile ON visits (profile_id);

INSERT INTO visits (quarter, profile_id)
SELECT DISTINCT (ts - ((ts % 900000000) + 900000000) % 900000000) / 900000000, profile_id
FROM events WHERE kind IN ('page', 'screen', 'track');
