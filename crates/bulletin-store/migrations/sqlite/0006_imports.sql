-- Imports (issue 6): old addresses kept as redirects, and drafts that remember how
-- the system they came from left them. Times are Unix seconds, as in the newsroom.

-- An old address (a WordPress permalink, `/?p=123`, a Hugo alias, a category
-- archive) and where it lives now: the site answers `from_path` with a 301.
-- Paths are percent-decoded, as the site decodes a request before looking one up.
CREATE TABLE redirects (
    from_path  TEXT PRIMARY KEY,
    to_path    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- How a draft came to wait: draft, pending (for review), private (staff only) or
-- future (goes live at publish_at, which the scheduler watches).
ALTER TABLE drafts ADD COLUMN status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'pending', 'private', 'future'));
ALTER TABLE drafts ADD COLUMN publish_at BIGINT;
CREATE INDEX drafts_due ON drafts (status, publish_at);
