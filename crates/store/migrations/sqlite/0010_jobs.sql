-- Work for later or elsewhere (issue 13): the outbox (messages to deliver,
-- each once per key) and durable timers (work due at a time, rescheduled by
-- key), both claimed with a lease; and named leases, so a sweeper runs on
-- one node of a cluster at a time. Payloads are JSON with emails and phones
-- sealed, like every stored payload.
CREATE TABLE outbox (
    job_key      TEXT    PRIMARY KEY,
    topic        TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    due_at       BIGINT  NOT NULL,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    lease_owner  TEXT,
    lease_until  BIGINT,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    done_at      BIGINT
);
CREATE INDEX outbox_due ON outbox (topic, due_at) WHERE done_at IS NULL;

CREATE TABLE timers (
    job_key      TEXT    PRIMARY KEY,
    topic        TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    due_at       BIGINT  NOT NULL,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    lease_owner  TEXT,
    lease_until  BIGINT,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    done_at      BIGINT
);
CREATE INDEX timers_due ON timers (topic, due_at) WHERE done_at IS NULL;

CREATE TABLE leases (
    name      TEXT    PRIMARY KEY,
    owner     TEXT    NOT NULL,
    until_at  BIGINT  NOT NULL
);
