-- Claims (SPEC 11): the read model of the `claims` projection (projections/claims.py), and the
-- notice of a claim left open past its window.
--
-- claims                one row per claim (AttendanceClaimed), its state kept by ClaimFulfilled
--                       and ClaimDisputed; `overdue_on` is fixed when it is filed (the shortest
--                       claim_window_days of the activity's programs in force that day: a rule
--                       version takes effect today or later, so it is known by then)
-- provider_timeliness   per program and provider, how many postings were recorded how many days
--                       after their completed_on: the median is read off these counts
-- claim_activities, claim_programs
--                       what the projection needs of the catalogue, kept by itself from the
--                       log (a rebuild reads only the log, never another projection's rows)
-- association_notices   "a claim of your program is overdue", one per (program, claim): an
--                       association has no address, so its notices are listed on its page

CREATE TABLE claims (
    claim_id        uuid PRIMARY KEY,
    manager_id      text NOT NULL,
    activity_id     text NOT NULL,
    provider_id     text NOT NULL,
    programs        text[] NOT NULL,
    completed_on    date NOT NULL,
    note            text NOT NULL,
    filed_at        timestamptz NOT NULL,
    overdue_on      date NOT NULL,
    state           text NOT NULL CHECK (state IN ('open', 'fulfilled', 'disputed')),
    decided_at      timestamptz,
    completion_id   uuid,
    reason          text NOT NULL DEFAULT '',
    position        bigint NOT NULL
);
CREATE INDEX claims_manager ON claims (manager_id, position);
CREATE INDEX claims_provider ON claims (provider_id, state, position);
CREATE INDEX claims_programs ON claims USING gin (programs);
CREATE INDEX claims_open_overdue ON claims (overdue_on) WHERE state = 'open';

CREATE TABLE provider_timeliness (
    program         text NOT NULL,
    provider_id     text NOT NULL,
    days            integer NOT NULL,
    postings        bigint NOT NULL CHECK (postings > 0),
    PRIMARY KEY (program, provider_id, days)
);

CREATE TABLE claim_activities (
    activity_id     text PRIMARY KEY,
    provider_id     text NOT NULL,
    programs        text[] NOT NULL,
    title           text NOT NULL       -- what the pages show of a claim's activity
);

CREATE TABLE claim_programs (
    code            text PRIMARY KEY,
    program         json NOT NULL   -- ledger.domain.catalogue.Program
);

CREATE TABLE association_notices (
    notice_id       uuid PRIMARY KEY,       -- uuid5 of (program, kind, claim): stable
    program         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('claim_overdue')),
    claim_id        uuid NOT NULL,
    manager_id      text NOT NULL,
    due_on          date NOT NULL,
    created_at      timestamptz NOT NULL,
    UNIQUE (program, kind, claim_id)
);

-- The manager's notice of an overdue claim rides in the outbox with the others, one per claim:
-- its key is the claim, not (manager, program, cycle, kind).  The other kinds keep their key.
ALTER TABLE notice_outbox ADD COLUMN claim_id uuid;
ALTER TABLE notice_outbox DROP CONSTRAINT notice_outbox_kind_check;
ALTER TABLE notice_outbox ADD CONSTRAINT notice_outbox_kind_check CHECK (kind IN (
    'deadline_90', 'deadline_45', 'deadline_15', 'deadline_1', 'grace_started', 'lapsed',
    'renewal_approved', 'renewal_denied', 'audit_selected', 'claim_overdue'));
ALTER TABLE notice_outbox DROP CONSTRAINT notice_outbox_manager_id_program_cycle_kind_key;
CREATE UNIQUE INDEX notice_outbox_key ON notice_outbox (manager_id, program, cycle, kind)
    WHERE claim_id IS NULL;
CREATE UNIQUE INDEX notice_outbox_claim ON notice_outbox (claim_id, kind)
    WHERE claim_id IS NOT NULL;
