-- Files uploaded for import (POST /api/v1/imports): each import's progress,
-- and the lines it could not take, each sealed as one JSON text (they hold
-- personal data). Imports are forgotten after 30 days.
CREATE TABLE imports (
    id           TEXT   PRIMARY KEY,
    kind         TEXT   NOT NULL,
    format       TEXT   NOT NULL,
    file_name    TEXT,
    status       TEXT   NOT NULL,
    bytes_total  BIGINT NOT NULL,
    bytes_read   BIGINT NOT NULL,
    lines        BIGINT NOT NULL,
    accepted     BIGINT NOT NULL,
    rejected     BIGINT NOT NULL,
    notes        TEXT   NOT NULL,
    error        TEXT,
    created_by   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX imports_created ON imports (created_at);

CREATE TABLE import_rejects (
    import_id  TEXT   NOT NULL,
    n          BIGINT NOT NULL,
    line       BIGINT NOT NULL,
    detail     TEXT   NOT NULL,
    PRIMARY KEY (import_id, n)
);
