-- Bearer tokens of the HTTP API.  Not events: a token is an operational credential, not a
-- fact of anyone's continuing-education record, and it must be revocable without rewriting
-- history.  Only a SHA-256 of each token is kept (tokens are 256 random bits, so a fast hash
-- is enough: there is nothing to brute-force); the token itself is shown once, at creation.

CREATE TABLE api_tokens (
    token_hash  bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    token_id    uuid        NOT NULL UNIQUE,
    role        text        NOT NULL CHECK (role IN ('admin', 'provider', 'manager', 'auditor')),
    provider_id text,
    manager_id  text,
    programs    text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL,
    revoked_at  timestamptz,
    CHECK ((role = 'provider') = (provider_id IS NOT NULL)),
    CHECK ((role = 'manager') = (manager_id IS NOT NULL)),
    CHECK (role <> 'auditor' OR cardinality(programs) > 0)
);
