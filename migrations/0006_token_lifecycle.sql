-- A token's life: when it stops working by itself (`expires_at`, optional), when it was last
-- used (`last_used_at`, written at most once a minute per token, so a busy token does not
-- turn every request into a write), and a notification when it changes.

ALTER TABLE api_tokens
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD CHECK (expires_at IS NULL OR expires_at > created_at);

-- Every API process caches its token look-ups and LISTENs on `ledger_tokens`
-- (ledger/api/auth.py); a revocation (or any change of what a token may do) tells them all to
-- forget, in the same transaction as the change: NOTIFY is delivered at COMMIT, never for a
-- rolled-back change.  Writing last_used_at changes nothing a cache holds, so it is silent.
-- The payload (the token_id) is a hint only: listeners drop their whole cache.
CREATE FUNCTION api_tokens_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ledger_tokens', OLD.token_id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_changed AFTER UPDATE ON api_tokens
    FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
          OR OLD.role IS DISTINCT FROM NEW.role
          OR OLD.provider_id IS DISTINCT FROM NEW.provider_id
          OR OLD.manager_id IS DISTINCT FROM NEW.manager_id
          OR OLD.programs IS DISTINCT FROM NEW.programs)
    EXECUTE FUNCTION api_tokens_notify();

CREATE TRIGGER api_tokens_deleted AFTER DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION api_tokens_notify();
