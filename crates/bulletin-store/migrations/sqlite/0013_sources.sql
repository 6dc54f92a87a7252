-- Imported stories keep the identity their source gave them (issue 16): a
-- WordPress post's ID on its site, a Markdown file's path. A re-import matches
-- on it, so two posts that share a slug and a day stay two stories. NULL for
-- stories from bulletin text, the newsroom and older imports (matched, as
-- before, on natural_key; an older import's story takes its source's identity
-- the first time that source is imported again).
ALTER TABLE stories ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX stories_by_source ON stories (source_key);
