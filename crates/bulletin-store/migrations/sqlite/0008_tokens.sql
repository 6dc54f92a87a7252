-- Signed links (issue 7): the site's secrets, shared by every instance on one
-- database, and the nonces of single-use tokens already spent (kept until the
-- token would have expired anyway). Times are Unix seconds.
CREATE TABLE site_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE spent_tokens (
    nonce      TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX spent_tokens_by_expiry ON spent_tokens (expires_at);
