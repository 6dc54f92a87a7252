//! Line diffs between two versions of a story, for history and edit conflicts.

use bulletin_core::Story;
use serde::Serialize;

/// A story as comparable lines: its fields, then one line per paragraph.
pub fn story_lines(story: &Story) -> Vec<String> {
    let mut lines = vec![
        format!("Headline: {}", story.headline),
        format!(
            "Dateline: {} {} ({})",
            story.dateline.places.join("/"),
            story.dateline.date,
            story.dateline.credit
        ),
        format!("Tags: {}", story.tags.join(", ")),
        format!("Access: {}", story.access.as_str()),
    ];
    lines.extend(story.body.iter().cloned());
    lines
}

/// One line of a diff: "same", "added" or "removed".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub kind: &'static str,
    pub text: String,
}

/// Longest-common-subsequence diff of `a` into `b`. Stories are short; past 2,000
/// lines a side, everything is shown as removed and added.
pub fn diff(a: &[String], b: &[String]) -> Vec<Line> {
    let line = |kind, text: &String| Line {
        kind,
        text: text.clone(),
    };
    if a.len() > 2000 || b.len() > 2000 {
        return a
            .iter()
            .map(|t| line("removed", t))
            .chain(b.iter().map(|t| line("added", t)))
            .collect();
    }
    // lcs[i][j]: common length of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(line("same", &a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(line("removed", &a[i]));
            i += 1;
        } else {
            out.push(line("added", &b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|t| line("removed", t)));
    out.extend(b[j..].iter().map(|t| line("added", t)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn diffs_keep_order() {
        let d = diff(&lines("a b c d"), &lines("a x c d e"));
        let shown: Vec<String> = d
            .iter()
            .map(|l| format!("{}{}", &l.kind[..1], l.text))
            .collect();
        assert_eq!(shown, ["sa", "rb", "ax", "sc", "sd", "ae"]);
        assert!(
            diff(&lines("a"), &lines("a"))
                .iter()
                .all(|l| l.kind == "same")
        );
    }
}
