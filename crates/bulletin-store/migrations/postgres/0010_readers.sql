-- Signed-in subscribers (issue 7): sessions made by a magic link, kept as the
-- SHA-256 of the cookie's random id, as staff sessions are; and the nonce of a
-- paying subscriber's private feed token (NULL: no feed; a new nonce revokes
-- the old address). Times are Unix seconds.
CREATE TABLE reader_sessions (
    id_hash       TEXT PRIMARY KEY,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX reader_sessions_by_subscriber ON reader_sessions (subscriber_id);

ALTER TABLE subscribers ADD COLUMN feed_nonce TEXT;
