-- Rate limits reserve an attempt before the work they guard (issue 16): one row
-- per key, upserted first in the reserving transaction, orders concurrent
-- reservations of the same key; and each counted attempt gets an id, so a
-- sign-in that succeeds can give back the attempt it reserved. What is counted
-- lasts minutes, so the old rows are simply carried over.
CREATE TABLE throttle_keys (
    key TEXT PRIMARY KEY
);
CREATE TABLE attempts (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);
INSERT INTO attempts (key, at) SELECT key, at FROM login_failures;
DROP TABLE login_failures;
ALTER TABLE attempts RENAME TO login_failures;
CREATE INDEX login_failures_by_key ON login_failures (key, at);
