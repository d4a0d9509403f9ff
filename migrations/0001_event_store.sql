-- The event store: one append-only table of immutable facts, plus a single head row that
-- serializes appends.  All DDL of the project lives in this folder; see docs/event-store.md.

CREATE TABLE events (
    -- Global position: dense (1, 2, 3, ...) and equal to commit order.  It is NOT a sequence:
    -- a sequence hands out numbers at INSERT time, so a transaction that took 7 can commit
    -- after one that took 8 (a reader tailing "position > 6" would see 8 first and skip 7
    -- forever), and a rolled-back transaction burns its number (a hole).  Positions are taken
    -- from event_head below, under its row lock.
    position        bigint      PRIMARY KEY CHECK (position >= 1),
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL CHECK (stream_id <> ''),
    version         integer     NOT NULL CHECK (version >= 1),
    type            text        NOT NULL CHECK (type <> ''),
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    -- `json` (not `jsonb`) keeps the exact bytes that were hashed: jsonb would reorder keys
    -- and normalise numbers, and the hash chain would no longer verify.
    data            json        NOT NULL,
    metadata        json        NOT NULL,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea       NOT NULL CHECK (length(hash) = 32),
    UNIQUE (stream_id, version)
);

CREATE INDEX events_type_position ON events (type, position);
CREATE INDEX events_recorded_at ON events (recorded_at);

-- The head of the log: exactly one row.  Every append transaction updates it first, which
-- takes its row lock until COMMIT; appends are therefore serialized and positions are handed
-- out in commit order.  `hash` and `recorded_at` are those of the last event, so the next
-- append can chain onto it without reading the events table.
CREATE TABLE event_head (
    id          boolean     PRIMARY KEY DEFAULT true CHECK (id),
    position    bigint      NOT NULL CHECK (position >= 0),
    hash        bytea       NOT NULL CHECK (length(hash) = 32),
    recorded_at timestamptz NOT NULL
);

INSERT INTO event_head (id, position, hash, recorded_at)
VALUES (true, 0, decode(repeat('00', 32), 'hex'), 'epoch');

-- Append-only at the database level.  These triggers fire for every role, including the
-- owner; only a superuser can bypass them (ALTER TABLE ... DISABLE TRIGGER or
-- session_replication_role = replica), and that is what `ceu-ledger verify` exists to catch.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Record a correcting event instead.';
END
$$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- The head row may only move forward.
CREATE FUNCTION event_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.position < OLD.position THEN
        RAISE EXCEPTION 'event_head only moves forward: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER event_head_guard BEFORE UPDATE OR DELETE ON event_head
    FOR EACH ROW EXECUTE FUNCTION event_head_forward_only();
CREATE TRIGGER event_head_no_truncate BEFORE TRUNCATE ON event_head
    FOR EACH STATEMENT EXECUTE FUNCTION event_head_forward_only();

-- Wake tailing readers.  NOTIFY is transactional: delivered only when the append commits,
-- never for a rolled-back one.  The payload is the new head position; listeners treat it as
-- a hint and always read from their own checkpoint, so a lost or merged notification costs
-- at most one polling interval, never an event.
CREATE FUNCTION event_head_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ledger_events', NEW.position::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER event_head_notify AFTER UPDATE ON event_head
    FOR EACH ROW EXECUTE FUNCTION event_head_notify();
