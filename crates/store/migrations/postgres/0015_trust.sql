-- The trust model (docs/SECURITY.md): a write key's source (client or
-- server; NULL, from before, is client), and whether a server vouched for
-- an identity link (every link made before is taken as vouched for).
ALTER TABLE api_keys ADD COLUMN source TEXT;
ALTER TABLE identities ADD COLUMN verified BIGINT NOT NULL DEFAULT 1;
