-- The publication's settings beyond the first five (issue 17): set by
-- `bulletin site set`, bulletin.toml's [site], BULLETIN_* variables and flags.
-- Additive, with defaults, so an instance of the previous release keeps
-- reading and writing the row while the new one runs.
ALTER TABLE publication ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE publication ADD COLUMN copyright_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE publication ADD COLUMN default_access TEXT NOT NULL DEFAULT 'public';
ALTER TABLE publication ADD COLUMN sender_name TEXT NOT NULL DEFAULT '';
