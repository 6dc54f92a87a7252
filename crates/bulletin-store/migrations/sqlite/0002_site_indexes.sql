-- Indexes for the public site's reads: tag, country and place archives, the latest
-- issue, sitemaps.

-- Tag, country and place pages list a value's stories newest first. Each side
-- table gets a copy of its story's sort key (side rows are rewritten with their
-- story, so the copy stays in step) and an index in listing order, so a page walks
-- one index range instead of fetching and sorting every matching story. A value
-- listed twice in one story would then list the story twice, so side rows become
-- one per (story, value): the first.
DELETE FROM story_tags WHERE EXISTS (
    SELECT 1 FROM story_tags d
    WHERE d.story_id = story_tags.story_id AND d.tag_id = story_tags.tag_id
      AND d.position < story_tags.position);
DELETE FROM story_countries WHERE EXISTS (
    SELECT 1 FROM story_countries d
    WHERE d.story_id = story_countries.story_id AND d.code = story_countries.code
      AND d.position < story_countries.position);
DELETE FROM story_places WHERE EXISTS (
    SELECT 1 FROM story_places d
    WHERE d.story_id = story_places.story_id AND d.place = story_places.place
      AND d.position < story_places.position);

ALTER TABLE story_tags ADD COLUMN dateline_date TEXT NOT NULL DEFAULT '';
ALTER TABLE story_tags ADD COLUMN issue_number INTEGER NOT NULL DEFAULT -1;
ALTER TABLE story_tags ADD COLUMN issue_position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE story_countries ADD COLUMN dateline_date TEXT NOT NULL DEFAULT '';
ALTER TABLE story_countries ADD COLUMN issue_number INTEGER NOT NULL DEFAULT -1;
ALTER TABLE story_countries ADD COLUMN issue_position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE story_places ADD COLUMN dateline_date TEXT NOT NULL DEFAULT '';
ALTER TABLE story_places ADD COLUMN issue_number INTEGER NOT NULL DEFAULT -1;
ALTER TABLE story_places ADD COLUMN issue_position INTEGER NOT NULL DEFAULT 0;

UPDATE story_tags SET (dateline_date, issue_number, issue_position) =
    (SELECT s.dateline_date, s.issue_number, s.issue_position FROM stories s
     WHERE s.id = story_tags.story_id);
UPDATE story_countries SET (dateline_date, issue_number, issue_position) =
    (SELECT s.dateline_date, s.issue_number, s.issue_position FROM stories s
     WHERE s.id = story_countries.story_id);
UPDATE story_places SET (dateline_date, issue_number, issue_position) =
    (SELECT s.dateline_date, s.issue_number, s.issue_position FROM stories s
     WHERE s.id = story_places.story_id);

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
-- instead of sorting every issue. NULL (unknown) dates sort last in DESC order.
CREATE INDEX issues_newest ON issues (date DESC, number DESC);

-- Sitemap slices in id order: a narrow covering index, so that skipping rows
-- (OFFSET) steps over index entries rather than whole stories with their bodies.
CREATE INDEX stories_by_id ON stories (id, slug, dateline_date, updated_at);
