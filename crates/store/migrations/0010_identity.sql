-- Identity proven, never claimed (issue 16): an account sees a person's applications only once
-- it has proven that it is that person's, and sign-in throttling that holds under concurrency.

-- How the account proved its IIN: 'certificate' (the person's authentication key signed a live
-- challenge), 'psc_code' (a one-time code a PSC operator handed over after checking the identity
-- document) or 'operator' (created by the deployment's operator for a known person, e.g. the
-- demo's). NULL: unproven — the account sees no application of the IIN. Every account that
-- existed before this migration is unproven until its owner's next certificate sign-in.
ALTER TABLE account ADD COLUMN proven_by TEXT;
ALTER TABLE account ADD COLUMN proven_at TEXT;

-- Sessions opened before carried an entity and an identity nobody re-checked: all end here.
DELETE FROM web_session;

-- Throttle rows count attempts taken (before the password is checked) since the window began,
-- and the earliest moment the next attempt of that key may be taken (exponential backoff).
-- Old rows counted failures per IIN with a hard lock; they mean nothing in the new keys.
DELETE FROM login_throttle;
ALTER TABLE login_throttle ADD COLUMN next_allowed_ms BIGINT NOT NULL DEFAULT 0;

-- One-time codes a PSC operator hands to a person after checking their identity document: one live
-- code per person (a new one replaces the old), stored as an argon2id hash, burnt after a few
-- wrong tries; the issuance itself is in the audit log with the operator and the branch.
CREATE TABLE identity_code (
    iin        TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    issued_by  TEXT NOT NULL,
    office     TEXT NOT NULL,
    issued_ms  BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    tries      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX identity_code_expires ON identity_code (expires_ms);
CREATE INDEX login_challenge_expires ON login_challenge (expires_ms);
