-- Reader mail (issue 16): sign-up confirmations and sign-in links are queued
-- here by the site and delivered by the send engine, so the site's answer never
-- waits for an SMTP server (and cannot show, by taking longer, which addresses
-- are subscribed). Claimed and fenced as `sends` rows are. A sent row is
-- deleted (its text holds a link that signs in); a failed one keeps only its
-- error. Times are Unix seconds.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_by      TEXT,
    claimed_at      INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX notices_due ON notices (state, next_attempt_at, id);
