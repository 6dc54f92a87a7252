-- The newsroom (issue 5): sessions, sign-in throttling, unpublished stories, the
-- history of every save, the audit log and scheduled issues. The PostgreSQL
-- migration has the same tables and columns; times here are Unix seconds (BIGINT
-- on both backends), so the newsroom's SQL is one text for both.

-- Staff sessions. The cookie carries a random id; only its SHA-256 is stored, so a
-- copy of the database signs nobody in.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed sign-ins, per account ("account:EMAIL") and per address ("address:IP").
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);

-- Stories that are not public: never published, unpublished, or waiting in an
-- issue that is not published. `stories` holds only what visitors may read.
-- `content` is the story's canonical JSON; the other columns serve the lists.
CREATE TABLE drafts (
    id             INTEGER PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    headline       TEXT NOT NULL,
    dateline_date  TEXT NOT NULL,
    tags           TEXT NOT NULL,                     -- JSON array, as in stories
    issue_number   INTEGER NOT NULL DEFAULT -1,       -- -1: in no issue
    issue_position INTEGER NOT NULL DEFAULT 0,
    content        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX drafts_by_issue ON drafts (issue_number, issue_position);

-- Every save of a story in the newsroom, drafts and published alike: number 1, 2,
-- ... per slug. The latest number is the story's version, which an edit must name
-- (a save based on an older version is an edit conflict).
CREATE TABLE story_history (
    slug      TEXT NOT NULL,
    number    INTEGER NOT NULL,
    content   TEXT NOT NULL,
    user_id   INTEGER REFERENCES users (id),
    actor     TEXT NOT NULL,                          -- an address, or "import"
    action    TEXT NOT NULL,                          -- create, save, restore, import
    at        INTEGER NOT NULL,
    PRIMARY KEY (slug, number)
);

-- Who created, published, unpublished, deleted what and when.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id INTEGER REFERENCES users (id),
    actor   TEXT NOT NULL,                            -- an address, "scheduler", "cli"
    action  TEXT NOT NULL,
    entity  TEXT NOT NULL,
    key     TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);

-- When a scheduled issue goes live (Unix seconds); NULL unless scheduled.
ALTER TABLE issues ADD COLUMN publish_at INTEGER;
CREATE INDEX issues_due ON issues (status, publish_at);
