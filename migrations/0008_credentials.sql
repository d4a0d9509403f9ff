-- Verifiable credentials (docs/credentials.md).  Not events: a signing key is an operational
-- secret, and an issued credential is a document derived from facts already in the ledger
-- (an approved renewal, as the ledger knew it when it was approved), like a token.

-- One Ed25519 key per program (the association signs with it), made on first use.  The
-- private key is a PKCS#8 PEM encrypted with Fernet under the key-encryption key from the
-- environment (LEDGER_KEY_ENCRYPTION_KEY); only the public JWK is stored in the clear.
CREATE TABLE credential_keys (
    program         text        PRIMARY KEY,
    kid             text        NOT NULL UNIQUE,
    public_jwk      jsonb       NOT NULL,
    private_key_enc bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- One credential per approved renewal, issued the first time anyone asks for it.  The signed
-- VC-JWT is kept as issued (it never changes); its status, revoked or lapsed, is published in
-- the program's status lists at `status_index`, a random free slot of the program's list
-- (random, not sequential, so that an index tells nothing about when or to whom it was given).
CREATE TABLE credentials (
    credential_id uuid        PRIMARY KEY,
    renewal_id    uuid        NOT NULL UNIQUE,
    program       text        NOT NULL REFERENCES credential_keys (program),
    manager_id    text        NOT NULL,
    status_index  integer     NOT NULL CHECK (status_index >= 0 AND status_index < 131072),
    holder_name   text        NOT NULL,
    approved_at   timestamptz NOT NULL,
    valid_from    timestamptz NOT NULL,
    valid_until   timestamptz NOT NULL,
    vc_jwt        text        NOT NULL,
    issued_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (program, status_index)
);

CREATE INDEX credentials_by_program ON credentials (program, manager_id);
