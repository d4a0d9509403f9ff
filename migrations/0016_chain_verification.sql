-- The chain's verified checkpoint, kept by the `chain_verification` projection
-- (projections/verification.py): how far the hash chain has been recomputed and found good,
-- the hash there, the first bad position if one was found, and when.  Pages and
-- GET /v1/ledger/verify answer from it instead of walking the whole log on every view.
--
-- One row.  `position` is the last position checked (and good, unless first_bad_position is
-- set: then the walk stopped there); `head_hash` the stored hash at `position`.

CREATE TABLE chain_verification (
    id                   boolean     PRIMARY KEY DEFAULT true CHECK (id),
    position             bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
    head_hash            bytea       NOT NULL DEFAULT decode(repeat('00', 32), 'hex')
                                     CHECK (length(head_hash) = 32),
    events_checked       bigint      NOT NULL DEFAULT 0,
    first_bad_position   bigint,
    problem              text,
    checked_at           timestamptz,
    -- Set by the tripwire below: a stored event was changed or removed behind the checkpoint,
    -- where the incremental walk would never look again.  Cleared when the projection's full
    -- re-walk reaches the head.
    recheck_requested_at timestamptz,
    recheck_reason       text
);

INSERT INTO chain_verification (id) VALUES (true);

-- The tripwire.  Events are append-only (0001's triggers refuse UPDATE, DELETE and TRUNCATE
-- for every role but a superuser, and 0014 revokes those rights from the service), so the
-- projection checks each event once.  A superuser can still get past the refusal (DISABLE
-- TRIGGER on it, or session_replication_role = replica); these triggers are ENABLE ALWAYS, so
-- they fire in replica mode too, and they send the verification projection back to position
-- 0 for a full re-walk (a rebuild, which the projector runs at once: it is woken on the
-- store's channel).  Only `ALTER TABLE events DISABLE TRIGGER ALL`/`USER` silences them:
-- `ceu-ledger verify` stays a full walk of the log for that reason.
CREATE FUNCTION events_tripwire() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chain_verification (id, recheck_requested_at, recheck_reason)
    VALUES (true, now(), TG_OP)
    ON CONFLICT (id) DO UPDATE
        SET recheck_requested_at = now(), recheck_reason = TG_OP;
    INSERT INTO projection_checkpoints (name, position, rebuild_started_at)
    VALUES ('chain_verification', 0, now())
    ON CONFLICT (name) DO UPDATE
        SET position = 0, rebuild_started_at = now(), updated_at = now();
    PERFORM pg_notify('ledger_events', (SELECT position FROM event_head)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER events_tripwire_update AFTER UPDATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_tripwire();
CREATE TRIGGER events_tripwire_delete AFTER DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_tripwire();
CREATE TRIGGER events_tripwire_truncate AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_tripwire();

ALTER TABLE events ENABLE ALWAYS TRIGGER events_tripwire_update;
ALTER TABLE events ENABLE ALWAYS TRIGGER events_tripwire_delete;
ALTER TABLE events ENABLE ALWAYS TRIGGER events_tripwire_truncate;
