-- A manager's completions are rows of ceu_postings, not part of the manager's JSON record:
-- a batch then writes the completions it recorded or corrected (and the small rest of the
-- record), instead of re-encoding and rewriting every completion of every manager it touches.
-- ceu_managers.record keeps the ledger.domain.record.ManagerRecord without its completions
-- (an empty `completions`); projections/ceu.py puts the two back together.
--
-- The existing rows do not have the new columns' values, so the `ceu` read model is emptied
-- and its checkpoint reset as a rebuild: the next runner refolds the log from position 0.

ALTER TABLE ceu_postings
    ADD COLUMN category text NOT NULL DEFAULT '',
    ADD COLUMN programs json NOT NULL DEFAULT '[]',  -- ledger.domain.record.Completion.programs
    ADD COLUMN history  json NOT NULL DEFAULT '[]';  -- ledger.domain.record.Completion.history
CREATE INDEX ceu_postings_manager ON ceu_postings (manager_id, position);

TRUNCATE ceu_programs, ceu_managers, ceu_certifications, ceu_renewals, ceu_audits,
         ceu_findings, ceu_manager_index, ceu_postings;
UPDATE projection_checkpoints
SET position = 0, rebuild_started_at = now(), updated_at = now()
WHERE name = 'ceu';
