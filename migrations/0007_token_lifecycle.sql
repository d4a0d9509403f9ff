-- A token's life: when it stops working by itself (`expires_at`, optional) and when it was
-- last used (`last_used_at`, written at most once a minute per token, so that a busy token
-- does not turn every request into a write).  Revocation needs nothing new: every request
-- reads its token's row (ledger/api/auth.py says why there is no cache).

ALTER TABLE api_tokens
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD CHECK (expires_at IS NULL OR expires_at > created_at);
