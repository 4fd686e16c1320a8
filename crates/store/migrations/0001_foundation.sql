-- The foundation schema. Portable SQL: the same text runs on SQLite and PostgreSQL, so dates
-- and times are ISO 8601 text, flags are INTEGER 0/1, and keys are natural or assigned by the
-- application (no SERIAL / AUTOINCREMENT).

-- The tamper-evident record (domain::audit). Appended in the same transaction as the change it
-- records; `audit_head` is the single row that serialises appends and holds the last hash, so
-- that entries cut off the end are noticed.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- State registries: individuals (ЖТ МДҚ), legal entities (ЗТ МДҚ), notarial powers of attorney (БНАЖ).
CREATE TABLE person (
    iin        TEXT PRIMARY KEY CHECK (length(iin) = 12),
    surname    TEXT NOT NULL,
    given_name TEXT NOT NULL,
    patronymic TEXT,
    birth_date TEXT NOT NULL,
    sex        TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    address    TEXT NOT NULL,
    region     TEXT NOT NULL
);

CREATE TABLE legal_entity (
    bin           TEXT PRIMARY KEY CHECK (length(bin) = 12),
    name_kk       TEXT NOT NULL,
    name_ru       TEXT NOT NULL,
    legal_form    TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    head_iin      TEXT REFERENCES person (iin),
    address       TEXT NOT NULL,
    region        TEXT NOT NULL
);
CREATE INDEX legal_entity_head ON legal_entity (head_iin);

CREATE TABLE power_of_attorney (
    number       TEXT PRIMARY KEY,
    principal    TEXT NOT NULL CHECK (length(principal) = 12),
    attorney_iin TEXT NOT NULL REFERENCES person (iin),
    notary       TEXT NOT NULL,
    issued_on    TEXT NOT NULL,
    valid_until  TEXT NOT NULL,
    scope        TEXT NOT NULL,
    revoked      INTEGER NOT NULL CHECK (revoked IN (0, 1))
);
CREATE INDEX power_of_attorney_attorney ON power_of_attorney (attorney_iin);
CREATE INDEX power_of_attorney_principal ON power_of_attorney (principal);

-- Directory of organisations and staff.
CREATE TABLE organisation (
    code       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    parent     TEXT REFERENCES organisation (code),
    name_kk    TEXT NOT NULL,
    name_ru    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    address_kk TEXT,
    address_ru TEXT,
    phone      TEXT,
    website    TEXT,
    region     TEXT,
    source     TEXT NOT NULL
);
CREATE INDEX organisation_parent ON organisation (parent);

CREATE TABLE organisation_service (
    organisation TEXT NOT NULL REFERENCES organisation (code),
    service      TEXT NOT NULL,
    PRIMARY KEY (organisation, service)
);
CREATE INDEX organisation_service_service ON organisation_service (service);

CREATE TABLE organisation_topic (
    organisation TEXT NOT NULL REFERENCES organisation (code),
    topic        TEXT NOT NULL,
    PRIMARY KEY (organisation, topic)
);

CREATE TABLE staff (
    iin          TEXT NOT NULL REFERENCES person (iin),
    organisation TEXT NOT NULL REFERENCES organisation (code),
    role         TEXT NOT NULL,
    position_kk  TEXT NOT NULL,
    position_ru  TEXT NOT NULL,
    PRIMARY KEY (iin, organisation, role)
);
CREATE INDEX staff_organisation ON staff (organisation);

-- The deployment's legal calendar: the rules document (domain::calendar::CalendarRules).
CREATE TABLE calendar_rules (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
