-- Indexes for the public site's reads: tag, country and place archives, the latest
-- issue, sitemaps. Same as migrations/sqlite/0002.

-- Tag, country and place pages list a value's stories newest first. Each side
-- table gets a copy of its story's sort key (side rows are rewritten with their
-- story, so the copy stays in step) and an index in listing order, so a page walks
-- one index range instead of fetching and sorting every matching story. A value
-- listed twice in one story would then list the story twice, so side rows become
-- one per (story, value): the first.
DELETE FROM story_tags a USING story_tags b
    WHERE a.story_id = b.story_id AND a.tag_id = b.tag_id AND a.position > b.position;
DELETE FROM story_countries a USING story_countries b
    WHERE a.story_id = b.story_id AND a.code = b.code AND a.position > b.position;
DELETE FROM story_places a USING story_places b
    WHERE a.story_id = b.story_id AND a.place = b.place AND a.position > b.position;
-- (No foreign keys here: drop any row whose story is gone.)
DELETE FROM story_tags t WHERE NOT EXISTS (SELECT 1 FROM stories s WHERE s.id = t.story_id);
DELETE FROM story_countries t
    WHERE NOT EXISTS (SELECT 1 FROM stories s WHERE s.id = t.story_id);
DELETE FROM story_places t WHERE NOT EXISTS (SELECT 1 FROM stories s WHERE s.id = t.story_id);

ALTER TABLE story_tags ADD COLUMN dateline_date DATE,
    ADD COLUMN issue_number BIGINT NOT NULL DEFAULT -1,
    ADD COLUMN issue_position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE story_countries ADD COLUMN dateline_date DATE,
    ADD COLUMN issue_number BIGINT NOT NULL DEFAULT -1,
    ADD COLUMN issue_position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE story_places ADD COLUMN dateline_date DATE,
    ADD COLUMN issue_number BIGINT NOT NULL DEFAULT -1,
    ADD COLUMN issue_position INTEGER NOT NULL DEFAULT 0;

UPDATE story_tags t SET dateline_date = s.dateline_date, issue_number = s.issue_number,
    issue_position = s.issue_position FROM stories s WHERE s.id = t.story_id;
UPDATE story_countries t SET dateline_date = s.dateline_date, issue_number = s.issue_number,
    issue_position = s.issue_position FROM stories s WHERE s.id = t.story_id;
UPDATE story_places t SET dateline_date = s.dateline_date, issue_number = s.issue_number,
    issue_position = s.issue_position FROM stories s WHERE s.id = t.story_id;

ALTER TABLE story_tags ALTER COLUMN dateline_date SET NOT NULL;
ALTER TABLE story_countries ALTER COLUMN dateline_date SET NOT NULL;
ALTER TABLE story_places ALTER COLUMN dateline_date SET NOT NULL;

-- The new indexes lead with the value too, so they replace the old ones.
DROP INDEX story_tags_by_tag;
DROP INDEX story_countries_by_code;
DROP INDEX story_places_by_place;
CREATE INDEX story_tags_newest
    ON story_tags (tag_id, dateline_date DESC, issue_number DESC, issue_position, story_id);
CREATE INDEX story_countries_newest
    ON story_countries (code, dateline_date DESC, issue_number DESC, issue_position, story_id);
CREATE INDEX story_places_newest
    ON story_places (place, dateline_date DESC, issue_number DESC, issue_position, story_id);

-- The newest issue with stories: walked from the top until an issue has a story,
-- instead of sorting every issue.
CREATE INDEX issues_newest ON issues (date DESC NULLS LAST, number DESC);

-- Sitemap slices in id order: an index-only scan of a narrow covering index, so
-- that skipping rows (OFFSET) does not visit the stories' heap pages.
CREATE INDEX stories_by_id ON stories (id) INCLUDE (slug, dateline_date, updated_at);
