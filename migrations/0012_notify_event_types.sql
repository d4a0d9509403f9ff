-- Say which types of event an append stored, so that a follower interested in a few types
-- (the in-process catalogue: ledger/infra/notify.py) need not read the log after every
-- append of any other type.  One notification per INSERT statement (an append is one),
-- on its own channel; the payload is the statement's last position, then the distinct
-- types it stored, separated by spaces: "1234 completion_recorded fee_paid".  Like the
-- head's notification (0001), it is delivered only if the append commits, in commit order.
CREATE FUNCTION events_notify_types() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ledger_event_types',
                      (SELECT max(position)::text || ' ' || string_agg(DISTINCT type, ' ')
                         FROM stored));
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify_types AFTER INSERT ON events
    REFERENCING NEW TABLE AS stored
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify_types();
