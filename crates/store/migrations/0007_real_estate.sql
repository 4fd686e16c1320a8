-- The real estate register (ЖМТ МДҚ / ГБД РН): objects with their technical characteristics, and
-- the rights registered to them with their encumbrances (domain::registry::RealEstate,
-- RealEstateRight). Portable SQL, as 0001: dates are ISO 8601 text; the area is the decimal text
-- of m² the register prints (at most two decimals), since sqlx's Any driver has no NUMERIC type.

CREATE TABLE real_estate (
    cadastral_number TEXT PRIMARY KEY,
    kind             TEXT NOT NULL
        CHECK (kind IN ('apartment', 'house', 'land_plot', 'non_residential')),
    address          TEXT NOT NULL,
    region           TEXT NOT NULL,
    area             TEXT NOT NULL,
    rooms            INTEGER,
    floors           INTEGER,
    built_year       INTEGER
);

-- A holder (IIN or BIN, like power_of_attorney.principal) has at most one right to an object.
CREATE TABLE real_estate_right (
    cadastral_number TEXT NOT NULL REFERENCES real_estate (cadastral_number),
    holder           TEXT NOT NULL CHECK (length(holder) = 12),
    right_kind       TEXT NOT NULL
        CHECK (right_kind IN ('ownership', 'common_ownership', 'lease', 'trust_management')),
    share            TEXT,
    registered_on    TEXT NOT NULL,
    document         TEXT NOT NULL,
    encumbrance      TEXT,
    PRIMARY KEY (cadastral_number, holder)
);
CREATE INDEX real_estate_right_holder ON real_estate_right (holder);
