-- The portal and the back office (issue 5): accounts, sessions, login throttling, one-time login
-- challenges, drafts, uploaded files, registration numbering and the quality questionnaire.

-- A person who signs in: an applicant on the portal, a member of staff in the back office, or both.
-- The login is the person's IIN. A legal entity's employee also carries the BIN they act for
-- (taken from their certificate's OU at registration).
CREATE TABLE account (
    iin           TEXT PRIMARY KEY,
    bin           TEXT,
    email         TEXT NOT NULL,
    -- argon2id in PHC string form; NULL for an account that signs in only with its certificate.
    password_hash TEXT,
    lang          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Signed-in sessions. Only the token's SHA-256 is kept, so a copy of the database opens no session.
CREATE TABLE web_session (
    token_sha256 TEXT PRIMARY KEY,
    iin          TEXT NOT NULL REFERENCES account (iin),
    -- 'portal' or 'office'
    realm        TEXT NOT NULL,
    -- office: the organisation the member works in for this session
    organisation TEXT,
    csrf         TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL
);
CREATE INDEX web_session_iin ON web_session (iin);

-- Failed sign-ins per key (`iin:<iin>` and `ip:<address>`) within the current window.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    window_start_ms BIGINT NOT NULL
);

-- Challenges a person signs with an authentication key to sign in; each is used at most once.
CREATE TABLE login_challenge (
    nonce      TEXT PRIMARY KEY,
    expires_ms BIGINT NOT NULL
);

-- An application being filled in: the form's values as JSON, kept until submitted or deleted.
CREATE TABLE draft (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    regulation TEXT NOT NULL,
    channel    TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX draft_owner ON draft (owner);

-- Files an applicant attached (to a draft, then to the submitted application, by SHA-256).
CREATE TABLE attachment (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    draft       TEXT,
    instance    TEXT REFERENCES workflow_instance (id),
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX attachment_owner ON attachment (owner);
CREATE INDEX attachment_instance ON attachment (instance);

-- Each body's register numbering, per register (e.g. incoming appeals) and year.
CREATE TABLE register_counter (
    register TEXT PRIMARY KEY,
    last     BIGINT NOT NULL
);

-- The quality and accessibility questionnaire after a service (001 Annex 3): one per application.
CREATE TABLE questionnaire (
    instance    TEXT PRIMARY KEY REFERENCES workflow_instance (id),
    quality     INTEGER NOT NULL CHECK (quality BETWEEN 1 AND 3),
    information INTEGER NOT NULL CHECK (information BETWEEN 1 AND 3),
    at          TEXT NOT NULL
);

-- The author's deletion of a finished appeal (000 §18.2) keeps the instance for the body's records
-- but takes it out of the author's cabinet and quota.
ALTER TABLE workflow_instance ADD COLUMN hidden_by_author INTEGER NOT NULL DEFAULT 0;
