-- The role the service runs as: `ceu_ledger_service`, a group role without login.  The API,
-- the projectors and the mailer connect as a login role that is a member of it (the embedded
-- set-up makes `ceu_ledger_app`; with DATABASE_URL the operator makes one: docs/database-roles.md).
-- Migrations run as the tables' owner; the service is neither owner nor superuser, so it
--   * reads and appends events, and never updates, deletes or truncates them (nor can it
--     ALTER TABLE ... DISABLE TRIGGER or set session_replication_role: owner, superuser);
--   * moves the head forward (its trigger refuses anything else) and never deletes it;
--   * reads, writes and rebuilds (TRUNCATE) its own tables: projections, tokens, sessions,
--     credentials, the notice outbox;
--   * reads schema_migrations (a start with nothing to apply) and never writes it.
-- Tables added by later migrations get the ordinary rights through the default privileges
-- below; a later table that must be append-only revokes them in its own migration.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ceu_ledger_service') THEN
        CREATE ROLE ceu_ledger_service NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
EXCEPTION
    -- Another database of the same server created it at the same moment.
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO ceu_ledger_service;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO ceu_ledger_service;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ceu_ledger_service;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM ceu_ledger_service;
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM ceu_ledger_service;
REVOKE INSERT, DELETE, TRUNCATE ON event_head FROM ceu_ledger_service;

ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO ceu_ledger_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO ceu_ledger_service;
