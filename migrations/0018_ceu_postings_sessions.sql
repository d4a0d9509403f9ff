-- The workshop sessions a completion counts (SPEC 11: a workshop's credit derived at its close
-- names its sessions; ledger.domain.record.Completion.sessions).  Every completion recorded
-- before workshops names none, which is the default: no rebuild is needed.
ALTER TABLE ceu_postings ADD COLUMN sessions json NOT NULL DEFAULT '[]';
