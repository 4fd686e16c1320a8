-- The administrator's console (issue 20): regulation files uploaded through the web with the
-- checker's verdict, and which version of a service new applications start on. Several stateless
-- nodes share one database, so the active version lives here: a node compares the counter row
-- (one primary-key read) with the one it last saw and reads the activations only when it changed.
-- Without a row for a service, the version compiled into the binary (or given by --regulations)
-- is the active one.

-- A regulation file as an administrator uploaded it, kept with the number of rules it broke when it
-- was checked (the verdict itself is recomputed from the text when shown or activated).
CREATE TABLE regulation_upload (
    id          TEXT PRIMARY KEY,
    -- The service the file was uploaded for (the regulation's code).
    code        TEXT NOT NULL,
    -- Hex SHA-256 of the text: the version it becomes when activated.
    version     TEXT NOT NULL,
    text        TEXT NOT NULL,
    problems    INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_ms BIGINT NOT NULL
);
CREATE INDEX regulation_upload_code ON regulation_upload (code, uploaded_ms);

-- The version new applications of a service start on; an application keeps the version it started
-- with (workflow_instance.version).
CREATE TABLE regulation_activation (
    code         TEXT PRIMARY KEY,
    version      TEXT NOT NULL REFERENCES regulation_version (version),
    activated_by TEXT NOT NULL,
    activated_ms BIGINT NOT NULL,
    -- The counter's value this activation set.
    serial       BIGINT NOT NULL
);

-- One row (id 1), written by the first activation: raised by every activation in its transaction.
CREATE TABLE regulation_activation_counter (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    serial BIGINT NOT NULL
);

-- The health page counts applications past their term without scanning the closed ones.
CREATE INDEX workflow_instance_term_due ON workflow_instance (due_ms) WHERE closed_ms IS NULL;
