-- Credentials that Open Badges 3.0 verifiers accept (issue 22, docs/credentials.md).
--
-- `format`: how a credential was signed.  1: before issue 22 (JOSE `alg: Ed25519`, a bare
-- thumbprint `kid`, two status entries, the holder's name in clear); 2: the OB 3.0 VC-JWT
-- (`alg: EdDSA`, a `kid` URL, the JWT claims, one status entry, a salted email hash).  A
-- format-1 credential is kept as signed (it still verifies with the key it was signed with)
-- and reissued in format 2 the next time its renewal's credential is asked for:
-- `reissued_as` then names the new one, and the verification page says so.
ALTER TABLE credentials ADD COLUMN format smallint NOT NULL DEFAULT 1 CHECK (format IN (1, 2));
ALTER TABLE credentials ALTER COLUMN format DROP DEFAULT;
ALTER TABLE credentials ADD COLUMN reissued_as uuid
    REFERENCES credentials (credential_id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE credentials DROP CONSTRAINT credentials_renewal_id_key;
-- One credential in force per renewal; the ones it replaced keep their rows (and slots).
CREATE UNIQUE INDEX credentials_in_force ON credentials (renewal_id) WHERE reissued_as IS NULL;

-- The programs' status lists as last signed: re-signed only when a bit changes or half its
-- validity has passed, so every request between serves the same bytes (one ETag).
CREATE TABLE status_lists (
    program      text        NOT NULL REFERENCES credential_keys (program),
    purpose      text        NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    encoded_list text        NOT NULL,
    vc_jwt       text        NOT NULL,
    valid_from   timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL,
    PRIMARY KEY (program, purpose)
);
