-- The CA signer's journal of the requests it answered (issue 20): a request is identified by the id
-- its caller gives (the engine's message id per move, an operator's console request), so that a
-- caller that retries after a crash gets the same certificate or CRL, never a second one.
CREATE TABLE ca_request (
    id       TEXT PRIMARY KEY,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    answer   TEXT NOT NULL,
    at       TEXT NOT NULL
);

-- The CA operator's console lists the CA's actions (issued, revoked, CRLs, the signer's answers and
-- refusals) from the audit log by action.
CREATE INDEX audit_log_action ON audit_log (action, seq);
