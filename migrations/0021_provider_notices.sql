-- Notices to providers (SPEC 12): reminders 120 and 30 days before a provider's approval for a
-- program lapses (ledger/domain/approvals.py::lapse_reminders).  The reminder scheduler
-- (ledger/infra/reminders.py) queues them with INSERT ... ON CONFLICT DO NOTHING on the key
-- below, so each is queued once however often it runs; a renewed approval lapses on another
-- day, and so is another key.  The address is the application's contact_email, known when the
-- notice is queued (providers have no address elsewhere).  A table of its own beside the
-- managers' notice_outbox: its rows are keyed by provider, not by manager and cycle.

CREATE TABLE provider_notices (
    notice_id       uuid PRIMARY KEY,      -- uuid5 of the key: the stable Message-ID
    provider_id     text NOT NULL,
    program         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('approval_lapses_120', 'approval_lapses_30')),
    approval_number text NOT NULL,
    valid_until     date NOT NULL,
    due_on          date NOT NULL,
    email           text NOT NULL,
    created_at      timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    claimed_by      text,                  -- the sender holding the lease, if any (as in
    claimed_until   timestamptz,           -- notice_outbox: ledger/infra/mailer.py)
    sent_at         timestamptz,
    UNIQUE (provider_id, program, valid_until, kind),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- GET /v1/providers/{id}/notices and the provider's page; what the senders scan.
CREATE INDEX provider_notices_provider ON provider_notices (provider_id, due_on);
CREATE INDEX provider_notices_due ON provider_notices (next_attempt_at) WHERE status = 'pending';

-- The renewal register shows where each renewal's counted CEUs come from (SPEC 12: approved,
-- provider, self; the frozen evidence's `source`).  The existing rows do not have the new
-- columns' values, so the `ceu` read model is emptied and its checkpoint reset as a rebuild:
-- the next runner refolds the log from position 0 (as 0011 did).
ALTER TABLE ceu_renewals
    ADD COLUMN approved_ceus numeric NOT NULL DEFAULT 0,
    ADD COLUMN provider_ceus numeric NOT NULL DEFAULT 0,
    ADD COLUMN self_ceus     numeric NOT NULL DEFAULT 0;

TRUNCATE ceu_programs, ceu_managers, ceu_certifications, ceu_renewals, ceu_audits,
         ceu_findings, ceu_manager_index, ceu_postings;
UPDATE projection_checkpoints
SET position = 0, rebuild_started_at = now(), updated_at = now()
WHERE name = 'ceu';
