-- Subscribers (issue 7). Addresses are stored lowercased; times are Unix seconds,
-- as in the newsroom. Payment is outside bulletin: staff or an import set the plan.
CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL
                    CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
    plan            TEXT NOT NULL CHECK (plan IN ('free', 'paid')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    confirmed_at    INTEGER,
    unsubscribed_at INTEGER
);
CREATE INDEX subscribers_by_status ON subscribers (status, plan, id);
