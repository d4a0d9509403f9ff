-- The evidence store's PostgreSQL adapter (ledger/infra/evidence.py; docs/evidence.md): the
-- files behind self-reports, each stored once under the SHA-256 of its bytes.  An event holds
-- the hash, size and type of its file, never the bytes (SPEC 12).
--
-- Content-addressed, so a row is never changed: the same bytes always get the same key, and
-- other bytes are another row.  The service may therefore only add and read rows (like events:
-- 0014's default privileges would give it UPDATE, DELETE and TRUNCATE, taken back below), and
-- the triggers refuse changes from the owner too.  A superuser can still get past them, and
-- that is what `ceu-ledger verify` checks for: every file must hash to its key.

CREATE TABLE evidence_files (
    sha256      bytea       PRIMARY KEY CHECK (length(sha256) = 32),
    size        integer     NOT NULL CHECK (size BETWEEN 1 AND 10485760),
    media_type  text        NOT NULL
                            CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    data        bytea       NOT NULL,
    stored_at   timestamptz NOT NULL,
    CHECK (octet_length(data) = size)
);

-- PDFs, PNGs and JPEGs are compressed already: out of line, uncompressed, so that the server
-- does not try to compress each one again, and a slice of a file (verify reads the first
-- kilobyte to check its type) is read without the rest.
ALTER TABLE evidence_files ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE FUNCTION evidence_files_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evidence files are stored once and never changed: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER evidence_files_no_update BEFORE UPDATE ON evidence_files
    FOR EACH ROW EXECUTE FUNCTION evidence_files_refuse_change();
CREATE TRIGGER evidence_files_no_delete BEFORE DELETE ON evidence_files
    FOR EACH ROW EXECUTE FUNCTION evidence_files_refuse_change();
CREATE TRIGGER evidence_files_no_truncate BEFORE TRUNCATE ON evidence_files
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_files_refuse_change();

REVOKE ALL ON evidence_files FROM ceu_ledger_service;
GRANT SELECT, INSERT ON evidence_files TO ceu_ledger_service;
