//! Every cap the Markdown reader puts on a file, in one place. Beyond each, the
//! file is refused with its position, as for any other problem; within them, the
//! work is linear in the file's size.

/// Largest Markdown file or site configuration read, in bytes: a page holds one
/// story (some 50 KB for a long one). Larger files are refused before they are
/// read, since parsing front matter costs several times its size in memory (a
/// 60 MB TOML front matter peaked at half a gigabyte).
pub const MAX_FILE: u64 = 16 << 20;

/// Longest front matter read, in bytes; real ones are under a kilobyte.
pub const MAX_FRONT_MATTER: usize = 1 << 20;

/// Deepest nesting of mappings and lists in YAML front matter or configuration.
/// The YAML parser's work grows with depth times size (100,000 levels in 200 KB
/// took 42 seconds), so deeper YAML is refused by a linear scan before it is
/// parsed (`yaml_depth`). Real front matter goes three deep. TOML and JSON
/// parsers enforce depth limits of their own.
pub const MAX_NESTING: usize = 64;
