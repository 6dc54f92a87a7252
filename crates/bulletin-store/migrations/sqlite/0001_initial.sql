-- bulletin store, SQLite. The PostgreSQL schema (migrations/postgres) has the same shape.
-- Dates are ISO 8601 text (YYYY-MM-DD), timestamps RFC 3339 text in UTC.

CREATE TABLE publication (
    id         INTEGER PRIMARY KEY CHECK (id = 1),   -- exactly one row
    name       TEXT NOT NULL,
    credit     TEXT NOT NULL,
    base_url   TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    copyright  TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE issues (
    id         INTEGER PRIMARY KEY,
    number     INTEGER NOT NULL UNIQUE,
    date       TEXT,                                  -- NULL: unknown (old imports)
    status     TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE stories (
    id               INTEGER PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    natural_key      TEXT NOT NULL UNIQUE,            -- Story::natural_key()
    headline         TEXT NOT NULL,
    dateline_date    TEXT NOT NULL,
    year_inferred    INTEGER NOT NULL,
    credit           TEXT NOT NULL,
    -- Denormalised JSON arrays of strings, so one row reads a whole story.
    places           TEXT NOT NULL,
    body             TEXT NOT NULL,
    tags             TEXT NOT NULL,
    countries        TEXT NOT NULL,
    issue_id         INTEGER REFERENCES issues (id),
    -- The issue number, or -1 for none: a NOT NULL sort key for the newest-first index.
    issue_number     INTEGER NOT NULL DEFAULT -1,
    -- The issue date as the story's footer gives it (NULL: none given).
    issue_date       TEXT,
    -- Order of arrival within the issue, from 1; 0 without an issue.
    issue_position   INTEGER NOT NULL DEFAULT 0,
    first_published  INTEGER NOT NULL,
    copyright_holder TEXT NOT NULL,
    copyright_year   INTEGER NOT NULL,
    access           TEXT NOT NULL CHECK (access IN ('public', 'subscribers')),
    -- First 64 bits of SHA-256 over the content (everything but the slug).
    content_hash     INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE INDEX stories_newest ON stories (dateline_date DESC, issue_number DESC, issue_position, id);
CREATE INDEX stories_by_issue ON stories (issue_id, issue_position);

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    slug        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);

CREATE TABLE story_tags (
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    tag_id   INTEGER NOT NULL REFERENCES tags (id),
    PRIMARY KEY (story_id, position)
) WITHOUT ROWID;
CREATE INDEX story_tags_by_tag ON story_tags (tag_id, story_id);

CREATE TABLE story_countries (
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    code     TEXT NOT NULL,
    PRIMARY KEY (story_id, position)
) WITHOUT ROWID;
CREATE INDEX story_countries_by_code ON story_countries (code, story_id);

CREATE TABLE story_places (
    story_id INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    place    TEXT NOT NULL,
    PRIMARY KEY (story_id, position)
) WITHOUT ROWID;
CREATE INDEX story_places_by_place ON story_places (place, story_id);

CREATE TABLE revisions (
    story_id    INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,                     -- 1, 2, ... per story
    content     TEXT NOT NULL,                        -- StoryJson of the replaced version
    replaced_at TEXT NOT NULL,
    PRIMARY KEY (story_id, number)
) WITHOUT ROWID;

-- The change log. AUTOINCREMENT: a seq is never reused. SQLite has one writer at a
-- time, so seqs grow in commit order.
CREATE TABLE changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,                             -- story, issue, tag, publication
    key    TEXT NOT NULL,                             -- slug, issue number, tag name
    op     TEXT NOT NULL,                             -- insert, update, delete
    at     TEXT NOT NULL
);
