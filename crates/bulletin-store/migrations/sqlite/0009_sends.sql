-- The newsletter's send queue (issue 7): one row per (issue, subscriber), claimed
-- by workers, fenced by the claim. Times are Unix seconds. `message_key` is fixed
-- when the row is queued, so a message sent again is the same message again.
CREATE TABLE sends (
    id              INTEGER PRIMARY KEY,
    issue_number    BIGINT NOT NULL,
    subscriber_id   BIGINT NOT NULL REFERENCES subscribers (id),
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    plan            TEXT NOT NULL CHECK (plan IN ('free', 'paid')),
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by      TEXT,
    claimed_at      BIGINT,
    message_key     TEXT NOT NULL,
    last_error      TEXT,
    sent_at         BIGINT,
    UNIQUE (issue_number, subscriber_id)
);
CREATE INDEX sends_due ON sends (state, next_attempt_at, id);
CREATE INDEX sends_by_issue ON sends (issue_number, state);
