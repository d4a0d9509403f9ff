-- Bookkeeping of the migration runner itself (ledger/infra/migrations.py): which files have
-- been applied, when, and with which content.  An applied file must never change.

CREATE TABLE schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
