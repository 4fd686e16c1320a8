-- Public registers fed by the results of services (issue 20): an entry is written in the
-- transaction of the move that produces the result (the regulation's `[register]` names the step),
-- and anyone may search it at /registers/<register>.
CREATE TABLE register_entry (
    -- UUIDv7: time-ordered, the pages' keyset cursor (newest first).
    id          TEXT PRIMARY KEY,
    -- The register's code, as the regulation declares it (`kkm`, `e-resources`, …).
    register    TEXT NOT NULL,
    -- The entry's number, unique in its register: the register's own `<series>-<year>-<n>` or the
    -- application's registration number.
    number      TEXT NOT NULL,
    -- The application whose result the entry is, and the regulation version it ran on.
    application TEXT NOT NULL REFERENCES workflow_instance (id),
    regulation  TEXT NOT NULL,
    version     TEXT NOT NULL,
    -- What the entry shows: a JSON array of {code, label: {kk, ru, en}, value}, the value a text or
    -- a label in the three languages (a choice, an applicant category).
    fields      TEXT NOT NULL,
    -- The number and the values lower-cased and joined, for a bounded LIKE search.
    search      TEXT NOT NULL,
    -- 1, then one more at each amendment (003 Std-5: an update of an object's data).
    revision    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    amended_at  TEXT,
    -- Set when the entry is removed from the register (an entry is never deleted).
    removed_at  TEXT,
    UNIQUE (register, number),
    UNIQUE (register, application)
);
CREATE INDEX register_entry_page ON register_entry (register, id);
