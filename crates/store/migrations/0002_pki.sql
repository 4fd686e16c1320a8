-- The certification authorities (issue 3; seed 003). Portable SQL as in 0001: DER is kept as
-- base64 text, times as RFC 3339 text.

-- The CAs and the service identities that sign for them (OCSP responder, TSA). The key is an
-- encrypted PKCS#8 PEM: it is never stored in the clear (issue 3: CA keys encrypted at rest).
CREATE TABLE pki_authority (
    code        TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('root_ca', 'issuing_ca', 'ocsp', 'tsa')),
    parent      TEXT REFERENCES pki_authority (code),
    certificate TEXT NOT NULL,
    key_pem     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- The certificate register: every certificate the CAs issued, with its revocation.
CREATE TABLE pki_certificate (
    serial            TEXT PRIMARY KEY,
    issuer            TEXT NOT NULL REFERENCES pki_authority (code),
    profile           TEXT NOT NULL,
    subject           TEXT NOT NULL,
    iin               TEXT,
    bin               TEXT,
    not_before        TEXT NOT NULL,
    not_after         TEXT NOT NULL,
    certificate       TEXT NOT NULL,
    issued_at         TEXT NOT NULL,
    revoked_at        TEXT,
    revocation_reason INTEGER,
    CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
);
CREATE INDEX pki_certificate_iin ON pki_certificate (iin);
CREATE INDEX pki_certificate_bin ON pki_certificate (bin);
CREATE INDEX pki_certificate_revoked ON pki_certificate (issuer, revoked_at);

-- Published CRLs; the newest per issuer is what /pki/<ca>.crl serves.
CREATE TABLE pki_crl (
    issuer      TEXT NOT NULL REFERENCES pki_authority (code),
    number      BIGINT NOT NULL,
    this_update TEXT NOT NULL,
    next_update TEXT NOT NULL,
    crl         TEXT NOT NULL,
    PRIMARY KEY (issuer, number)
);

-- Serial numbers of time-stamp tokens (RFC 3161 §2.4.2: unique per TSA).
CREATE TABLE pki_counter (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO pki_counter (name, value) VALUES ('tsa_serial', 0);
