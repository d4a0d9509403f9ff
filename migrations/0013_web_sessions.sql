-- The web pages' sessions, kept on the server so that signing out ends them everywhere.
-- The session cookie (encrypted and signed) holds a 256-bit random session id; this table
-- keeps only its SHA-256, so a copy of the table opens no session.  `POST /logout` deletes the
-- row: the saved cookie then opens nothing, in every API process, whatever its own lifetime.
-- A session also ends at `expires_at` (8 hours after sign-in, never extended) and with its
-- token (revoked or expired tokens are checked on every page, as before).

CREATE TABLE web_sessions (
    session_hash bytea       PRIMARY KEY CHECK (length(session_hash) = 32),
    token_id     uuid        NOT NULL REFERENCES api_tokens (token_id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL CHECK (expires_at > created_at)
);

CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
