-- The workflow engine (issue 4): process instances of regulations, the durable job queue that runs
-- their system steps, the gateway's record of messages, and notifications. Times that the engine
-- compares and scans are epoch milliseconds (BIGINT), so that "due before now" is an index range.

-- Every regulation text an instance ran on, by its SHA-256: an instance keeps the version it started
-- with even after the file changes.
CREATE TABLE regulation_version (
    version   TEXT PRIMARY KEY,
    code      TEXT NOT NULL,
    text      TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);
CREATE INDEX regulation_version_code ON regulation_version (code);

CREATE TABLE workflow_instance (
    id              TEXT PRIMARY KEY,
    regulation      TEXT NOT NULL,
    version         TEXT NOT NULL REFERENCES regulation_version (version),
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    -- The applicant's IIN or BIN.
    applicant       TEXT NOT NULL,
    -- The organisation that provides the service (directory code).
    provider        TEXT NOT NULL,
    step            TEXT NOT NULL,
    -- Moves made so far: the optimistic version of the row and part of every idempotency key.
    moves           BIGINT NOT NULL,
    status          TEXT,
    -- NULL while open; 'result' or 'refusal' once an end is reached.
    outcome         TEXT,
    -- The failure message of the last failed condition, JSON {kk, ru, en}.
    message         TEXT,
    data            TEXT NOT NULL,
    started_ms      BIGINT NOT NULL,
    due_ms          BIGINT NOT NULL,
    -- The extensions of the term taken so far (index into the regulation's extensions, plus one).
    extensions      INTEGER NOT NULL,
    step_started_ms BIGINT NOT NULL,
    step_due_ms     BIGINT,
    -- The next moment the alarm scan must look at the instance, and which alarms already fired
    -- (bits of domain::workflow::Alarm).
    alarm_ms        BIGINT,
    alarms_fired    INTEGER NOT NULL,
    closed_ms       BIGINT
);
CREATE INDEX workflow_instance_alarm ON workflow_instance (alarm_ms) WHERE alarm_ms IS NOT NULL;
CREATE INDEX workflow_instance_step_due ON workflow_instance (step_due_ms) WHERE closed_ms IS NULL;
CREATE INDEX workflow_instance_applicant ON workflow_instance (applicant);
CREATE INDEX workflow_instance_provider ON workflow_instance (provider, closed_ms);

-- System steps waiting to run. The id is the instance and its move count, so enqueueing twice is
-- harmless; a job is deleted in the transaction that makes its move.
CREATE TABLE workflow_job (
    id        TEXT PRIMARY KEY,
    instance  TEXT NOT NULL REFERENCES workflow_instance (id),
    step      TEXT NOT NULL,
    moves     BIGINT NOT NULL,
    run_at_ms BIGINT NOT NULL,
    attempts  INTEGER NOT NULL,
    last_error TEXT
);
CREATE INDEX workflow_job_run_at ON workflow_job (run_at_ms);

-- What went through the gateway: sender and receiver information systems, the service, the
-- payload as sent, its hash and the sender's detached CMS signature over it (base64; NULL on a node
-- without a gateway key), and the answer. One row per step visit and service.
CREATE TABLE gateway_message (
    id             TEXT PRIMARY KEY,
    instance       TEXT NOT NULL REFERENCES workflow_instance (id),
    step           TEXT NOT NULL,
    sender         TEXT NOT NULL,
    receiver       TEXT NOT NULL,
    service        TEXT NOT NULL,
    payload        TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    signature      TEXT,
    answer_ok      INTEGER NOT NULL CHECK (answer_ok IN (0, 1)),
    answer         TEXT NOT NULL,
    at             TEXT NOT NULL
);
CREATE INDEX gateway_message_instance ON gateway_message (instance);

-- Notifications to applicants (statuses, 000 §10) and to staff (deadline warnings, escalations).
CREATE TABLE notification (
    id        TEXT PRIMARY KEY,
    instance  TEXT NOT NULL REFERENCES workflow_instance (id),
    -- An IIN or BIN, or `role:<organisation>:<role>` for whoever holds the role.
    addressee TEXT NOT NULL,
    kind      TEXT NOT NULL,
    body      TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX notification_addressee ON notification (addressee);
CREATE INDEX notification_instance ON notification (instance);

-- An instance's history is its audit entries.
CREATE INDEX audit_log_object ON audit_log (object_kind, object_id);
