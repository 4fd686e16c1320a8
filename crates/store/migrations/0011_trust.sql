-- Trust as configuration (issue 18): the certificates a deployment trusts beyond its own CAs — external
-- roots as anchors (the NCA's RSA and GOST roots, say) and intermediate CA certificates that paths may be
-- built through (Kalkan and NCALayer put only the signer's certificate into a CMS) — and the CRLs of
-- external CAs the operator supplies (a node may have no route to the CA's distribution point).
CREATE TABLE pki_trust (
    -- SHA-256 of the DER, lower-case hex: the name `qyzmet trust remove` takes.
    fingerprint TEXT PRIMARY KEY,
    -- 'anchor' or 'intermediate'.
    role        TEXT NOT NULL,
    -- 1: under this anchor an intermediate CA's unknown revocation status is shown, not a failure (the
    -- operator's decision for a root whose CRL the deployment cannot reach); the signer's is always required.
    ca_revocation_optional INTEGER NOT NULL DEFAULT 0,
    subject     TEXT NOT NULL,
    not_after   TEXT NOT NULL,
    certificate TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL
);

CREATE TABLE pki_trust_crl (
    fingerprint TEXT PRIMARY KEY,
    issuer      TEXT NOT NULL,
    this_update TEXT NOT NULL,
    next_update TEXT,
    crl         TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL
);

-- Hosts whose caIssuers addresses a node may follow to fetch a missing CA certificate (e.g. pki.gov.kz):
-- the address comes from a certificate not yet verified, so only hosts the operator named are asked.
CREATE TABLE pki_trust_host (
    host     TEXT PRIMARY KEY,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL
);
