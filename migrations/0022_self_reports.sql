-- Self-reports (SPEC 12) in the `ceu` read model (projections/ceu.py).
--
-- * ceu_postings.self_report_id: an accepted self-report is a completion of the manager's
--   record (ledger.domain.record.Completion.self_report_id), so it is a row of ceu_postings
--   like every completion, with the report's id.  NULL for every posting by a provider.
-- * ceu_self_reports: every report, for the associations' review queues
--   (GET /v1/programs/{code}/self-reports?state=pending): one row per report, its programs and
--   state to filter on, `report` the ledger.domain.record.SelfReport as the record holds it.
--   A report is found by its id without this table (the report's event has the report's id).
--
-- No event before this migration is a self-report, so the new column's NULL and the empty
-- table are what a rebuild would give: no rebuild.

ALTER TABLE ceu_postings ADD COLUMN self_report_id uuid;

CREATE TABLE ceu_self_reports (
    report_id   uuid   PRIMARY KEY,
    manager_id  text   NOT NULL,
    programs    text[] NOT NULL,
    state       text   NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
    position    bigint NOT NULL,
    report      json   NOT NULL
);
CREATE INDEX ceu_self_reports_queue ON ceu_self_reports USING gin (programs);
CREATE INDEX ceu_self_reports_manager ON ceu_self_reports (manager_id, position);
