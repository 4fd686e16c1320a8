-- The electronic queue of a public service centre branch (issue 6; 003 Std-1 §4.1 ¶3–¶4: the
-- longest wait in the queue and the longest service at the counter are limits the board checks).
-- One row per ticket the entrance terminal issues. Times are epoch milliseconds so that a day's
-- tickets are an index range; the day itself (in Astana) is kept beside them because the numbers
-- start again every day and the database, not the code, guarantees none is issued twice.
CREATE TABLE queue_ticket (
    id          TEXT PRIMARY KEY,
    -- The directory code of the branch (an organisation of kind psc_branch).
    branch      TEXT NOT NULL REFERENCES organisation (code),
    -- The branch's working day in Astana, YYYY-MM-DD.
    day         TEXT NOT NULL,
    -- What the board and the screen call out, e.g. A017: sequential per branch per day.
    number      TEXT NOT NULL,
    -- The regulation code of the service the applicant came for.
    service     TEXT NOT NULL,
    -- individual | legal_entity | representative (the counter-time limit depends on it).
    recipient   TEXT NOT NULL,
    taken_ms    BIGINT NOT NULL,
    -- Set when an operator calls the ticket to a window.
    called_ms   BIGINT,
    "window"    TEXT,
    -- The IIN of the operator who called it.
    operator    TEXT,
    started_ms  BIGINT,
    finished_ms BIGINT,
    -- NULL while open; 'served' or 'no_show' when closed.
    outcome     TEXT,
    UNIQUE (branch, day, number)
);
CREATE INDEX queue_ticket_branch_taken ON queue_ticket (branch, taken_ms);
