-- The notices outbox (ledger/domain/notices.py says which notices are called for).  Rows are
-- written by the `notices` projection (event-driven kinds) and the reminder scheduler
-- (date-driven kinds, ledger/infra/reminders.py), both with INSERT ... ON CONFLICT DO NOTHING
-- on the key below, so a notice exists at most once whoever finds it first, and a rebuild of
-- the projection (which does not empty this table) finds every row already there.  Senders
-- (ledger/infra/mailer.py) claim due rows with FOR UPDATE SKIP LOCKED and a lease, send, then
-- mark them sent; the mailer's docstring explains the one window in which a message may go
-- out twice (and then with the same Message-ID).

CREATE TABLE notice_outbox (
    notice_id       uuid PRIMARY KEY,      -- uuid5 of the key: the stable Message-ID
    manager_id      text NOT NULL,
    program         text NOT NULL,
    cycle           integer NOT NULL,
    kind            text NOT NULL CHECK (kind IN (
        'deadline_90', 'deadline_45', 'deadline_15', 'deadline_1', 'grace_started', 'lapsed',
        'renewal_approved', 'renewal_denied', 'audit_selected')),
    due_on          date NOT NULL,
    deadline        date,
    grace_ends_on   date,
    renewal_id      uuid,
    audit_id        uuid,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    claimed_by      text,                  -- the sender holding the lease, if any
    claimed_until   timestamptz,           -- when that lease ends (then anyone may claim)
    sent_at         timestamptz,
    recipient       text,                  -- the address it went to (resolved at send time)
    UNIQUE (manager_id, program, cycle, kind),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- What the senders scan: pending rows by when they are due.
CREATE INDEX notice_outbox_due ON notice_outbox (next_attempt_at) WHERE status = 'pending';
-- GET /v1/managers/{id}/notices.
CREATE INDEX notice_outbox_manager ON notice_outbox (manager_id, due_on);
