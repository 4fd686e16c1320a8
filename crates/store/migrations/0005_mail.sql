-- E-mail notifications: each notification is mailed once to every address its addressee resolves to
-- (an applicant's account, the accounts acting for a BIN, the staff holding a role).

-- Set once the notification's deliveries are queued in `mail_delivery` (0 = not yet looked at), so
-- that the mail worker finds new notifications by a small partial index instead of scanning them all.
-- Notifications written before this migration are taken as handled: upgrading mails no old news.
ALTER TABLE notification ADD COLUMN mail_queued INTEGER NOT NULL DEFAULT 0;
UPDATE notification SET mail_queued = 1;
CREATE INDEX notification_mail_new ON notification (id) WHERE mail_queued = 0;

-- One row per notification and address. The primary key makes queueing idempotent: a notification
-- is mailed once per address even when several nodes run the worker.
CREATE TABLE mail_delivery (
    notification TEXT NOT NULL REFERENCES notification (id),
    -- The e-mail address; '' on the single row of an addressee that resolves to no address.
    address      TEXT NOT NULL,
    -- The account (IIN) whose address it is, and the language the message is written in.
    account      TEXT,
    lang         TEXT NOT NULL,
    -- 'pending' (waiting for its first or next attempt), 'sent', 'failed' (the server refused it
    -- for good, or the attempts ran out), 'undeliverable' (no account with an address: never tried).
    state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'undeliverable')),
    attempts     INTEGER NOT NULL,
    -- While pending: not before this time (epoch milliseconds). A worker that claims the row moves it
    -- a lease ahead, so that another node takes it only if the first one died meanwhile.
    next_ms      BIGINT,
    last_error   TEXT,
    sent_at      TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (notification, address)
);
CREATE INDEX mail_delivery_due ON mail_delivery (next_ms) WHERE state = 'pending';
