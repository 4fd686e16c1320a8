-- Signed documents anyone may verify without signing in (issue 6, 002 §4): each published
-- document has an unguessable id (128 random bits), the address printed on a copy.
CREATE TABLE public_document (
    id         TEXT PRIMARY KEY,
    instance   TEXT NOT NULL REFERENCES workflow_instance (id),
    -- The application data's key that holds the CMS (e.g. answer_signature).
    field      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (instance, field)
);
