-- A place booked in a public service centre branch's electronic queue through the portal (003 Std-1
-- §8.2: "acceptance and issue in queue order, without advance booking or expedited service; an
-- electronic queue may be booked through the portal"). The providers' own desks take no booking
-- (Std-1 §8.1, Std-2 §8.1, Std-3..5 §8): a booking names a PSC branch only.
--
-- A day of the branch is cut into 15-minute slots within its hours (Monday–Saturday 09:00–20:00);
-- a slot holds at most two bookings. The database keeps that bound itself: an open booking holds
-- place 1 or 2 of its slot, (branch, day, slot, place) is unique, and a cancelled booking gives its
-- place back (place NULL; NULLs are never equal in a UNIQUE constraint on either backend).
CREATE TABLE queue_booking (
    id           TEXT PRIMARY KEY,
    -- The directory code of the PSC branch (an organisation of kind psc_branch).
    branch       TEXT NOT NULL REFERENCES organisation (code),
    -- The regulation code of the service, one with a psc channel.
    service      TEXT NOT NULL,
    -- individual | legal_entity | representative, as on a ticket.
    recipient    TEXT NOT NULL,
    -- The IIN of the person who booked (the one who comes).
    applicant    TEXT NOT NULL,
    -- The branch's day in Astana, YYYY-MM-DD, and the slot's start there, HH:MM.
    day          TEXT NOT NULL,
    slot         TEXT NOT NULL,
    -- The slot's start as epoch milliseconds, for comparisons with the clock.
    starts_ms    BIGINT NOT NULL,
    -- 1 or 2 while the booking holds a place of its slot; NULL once cancelled.
    place        INTEGER,
    -- What the person types at the entrance terminal: unique per branch and day.
    code         TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    -- The ticket the terminal issued at check-in; NULL before. A ticket serves one booking.
    ticket       TEXT UNIQUE REFERENCES queue_ticket (id),
    cancelled_ms BIGINT,
    UNIQUE (branch, day, code),
    UNIQUE (branch, day, slot, place),
    CHECK (place IS NULL OR place IN (1, 2)),
    CHECK ((cancelled_ms IS NULL AND place IS NOT NULL) OR (cancelled_ms IS NOT NULL AND place IS NULL)),
    CHECK (ticket IS NULL OR cancelled_ms IS NULL)
);
CREATE INDEX queue_booking_applicant ON queue_booking (applicant, starts_ms);
