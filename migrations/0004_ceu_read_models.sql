-- Read models of the `ceu` projection (projections/ceu.py).  One projection owns all of
-- them, so they share one checkpoint and always agree with each other.  Rows hold only what
-- does not depend on today's date; answers that do (status, days to deadline) are computed
-- at query time by the same pure functions the domain uses.

CREATE TABLE ceu_programs (
    code        text PRIMARY KEY,
    program     json NOT NULL              -- ledger.domain.catalogue.Program
);

CREATE TABLE ceu_managers (
    manager_id  text PRIMARY KEY,
    version     integer NOT NULL,          -- stream version folded so far
    record      json NOT NULL              -- ledger.domain.record.ManagerRecord
);

CREATE TABLE ceu_certifications (
    manager_id      text NOT NULL,
    program         text NOT NULL,
    certified_on    date NOT NULL,
    open_cycle      integer NOT NULL,      -- first cycle without an approved renewal
    deadline        date NOT NULL,         -- its deadline (extensions included)
    grace_ends_on   date NOT NULL,
    revoked         boolean NOT NULL,
    PRIMARY KEY (manager_id, program)
);
CREATE INDEX ceu_certifications_due ON ceu_certifications (program, deadline);

CREATE TABLE ceu_renewals (
    renewal_id          uuid PRIMARY KEY,
    program             text NOT NULL,
    manager_id          text NOT NULL,
    cycle               integer NOT NULL,
    cycle_starts_on     date NOT NULL,
    cycle_ends_on       date NOT NULL,
    ceus                numeric NOT NULL,
    completions         integer NOT NULL,
    fee_paid_cents      integer NOT NULL,
    state               text NOT NULL CHECK (state IN ('filed', 'approved', 'denied')),
    filed_at            timestamptz NOT NULL,
    decided_at          timestamptz,
    reason              text NOT NULL,
    audit_outcome       text CHECK (audit_outcome IN ('passed', 'failed'))
);
CREATE INDEX ceu_renewals_filed ON ceu_renewals (program, filed_at);
CREATE INDEX ceu_renewals_cycle_end ON ceu_renewals (program, cycle_ends_on);

CREATE TABLE ceu_audits (
    audit_id    uuid PRIMARY KEY,
    program     text NOT NULL,
    drawn_at    timestamptz NOT NULL,
    drawn       json NOT NULL              -- events.catalog.AuditSampleDrawn
);

CREATE TABLE ceu_findings (
    audit_id    uuid NOT NULL,
    renewal_id  uuid NOT NULL,
    manager_id  text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('passed', 'failed')),
    note        text NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (audit_id, renewal_id)
);
