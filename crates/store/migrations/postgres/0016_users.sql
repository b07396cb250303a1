-- Console users (email + argon2id password hash, a role as secret keys
-- have) and their login sessions (the cookie's token by its SHA-256 only).
CREATE TABLE users (
    id                  TEXT   PRIMARY KEY,
    email               TEXT   NOT NULL UNIQUE,
    name                TEXT   NOT NULL,
    role                TEXT   NOT NULL,
    password_hash       TEXT   NOT NULL,
    locale              TEXT,
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    disabled_at         BIGINT
);

CREATE TABLE sessions (
    token_hash    BYTEA  PRIMARY KEY,
    user_id       TEXT   NOT NULL,
    csrf          TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    user_agent    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
