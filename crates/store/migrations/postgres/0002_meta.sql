-- Facts about the database itself, e.g. a check value of the PII key it was
-- written with, so a wrong key fails at start-up instead of corrupting data.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
