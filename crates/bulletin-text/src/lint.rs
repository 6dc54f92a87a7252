//! File-level checks: issue numbers against the sequence of issue dates.

use std::collections::HashMap;

use bulletin_core::{Date, format_issue_date};

use crate::diagnostic::{Diagnostic, Severity};

/// Collects the issues a file names and finds numbers that do not fit the order
/// of their dates (issue 48 dated between 474 and 493). Memory grows with the
/// number of distinct issues, not stories.
#[derive(Debug, Default)]
pub struct IssueSequence {
    /// (number, date) → line and line text of its first mention
    first_seen: HashMap<(u32, Date), (u64, String)>,
    /// number → (date, line) of its first dated mention, to spot a number reused
    /// with another date
    by_number: HashMap<u32, (Date, u64)>,
    warnings: Vec<Diagnostic>,
}

impl IssueSequence {
    /// Notes an issue footer. A number seen again with another date is a warning
    /// (once per date).
    pub fn observe(&mut self, number: u32, date: Option<Date>, line: u64, source: &str) {
        let Some(date) = date else { return };
        if self.first_seen.contains_key(&(number, date)) {
            return;
        }
        self.first_seen
            .insert((number, date), (line, source.to_owned()));
        match self.by_number.get(&number) {
            None => {
                self.by_number.insert(number, (date, line));
            }
            Some(&(seen, seen_line)) => {
                let message = format!(
                    "issue {number} is dated {} here but {} at line {seen_line}",
                    format_issue_date(date),
                    format_issue_date(seen)
                );
                self.warnings
                    .push(Diagnostic::new(Severity::Warning, line, 1, message, source));
            }
        }
    }

    /// The warnings, in line order. Issues are put in date order; the longest run
    /// whose numbers increase with their dates is taken as the true sequence, and
    /// every issue outside it is reported with its neighbours.
    pub fn finish(self) -> Vec<Diagnostic> {
        let mut warnings = self.warnings;
        let mut issues: Vec<(Date, u32, u64, String)> = self
            .first_seen
            .into_iter()
            .map(|((n, d), (l, s))| (d, n, l, s))
            .collect();
        issues.sort_by_key(|a| (a.0, a.1));
        let keep = longest_increasing(&issues.iter().map(|i| i.1).collect::<Vec<_>>());
        for (i, (date, number, line, source)) in issues.iter().enumerate() {
            if keep[i] {
                continue;
            }
            let before = (0..i).rev().find(|&j| keep[j]).map(|j| &issues[j]);
            let after = (i + 1..issues.len()).find(|&j| keep[j]).map(|j| &issues[j]);
            let context = match (before, after) {
                (Some(b), Some(a)) => format!(
                    "it falls between issue {} ({}) and issue {} ({})",
                    b.1,
                    format_issue_date(b.0),
                    a.1,
                    format_issue_date(a.0)
                ),
                (Some(b), None) => {
                    format!("issue {} came earlier, on {}", b.1, format_issue_date(b.0))
                }
                (None, Some(a)) => {
                    format!("issue {} came later, on {}", a.1, format_issue_date(a.0))
                }
                (None, None) => String::new(),
            };
            warnings.push(Diagnostic::new(
                Severity::Warning,
                *line,
                1,
                format!(
                    "issue number {number} (dated {}) does not fit the sequence of issue dates: {context}; is the number a typo?",
                    format_issue_date(*date)
                ),
                source,
            ));
        }
        warnings.sort_by_key(|w| w.line);
        warnings
    }
}

/// Marks the members of one longest strictly increasing subsequence
/// (patience sorting, O(n log n)).
fn longest_increasing(values: &[u32]) -> Vec<bool> {
    let mut tails: Vec<usize> = Vec::new(); // index of the smallest tail per length
    let mut prev: Vec<Option<usize>> = vec![None; values.len()];
    for (i, &v) in values.iter().enumerate() {
        let pos = tails.partition_point(|&t| values[t] < v);
        prev[i] = pos.checked_sub(1).map(|p| tails[p]);
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut keep = vec![false; values.len()];
    let mut cursor = tails.last().copied();
    while let Some(i) = cursor {
        keep[i] = true;
        cursor = prev[i];
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lis_marks_the_odd_one_out() {
        assert_eq!(
            longest_increasing(&[451, 455, 474, 48, 493, 506, 565]),
            [true, true, true, false, true, true, true]
        );
        assert!(longest_increasing(&[]).is_empty());
    }

    #[test]
    fn same_number_two_dates() {
        let mut s = IssueSequence::default();
        let d = |m, d| Date::new(2021, m, d).ok();
        s.observe(10, d(1, 5), 3, "a");
        s.observe(10, d(1, 6), 9, "b");
        s.observe(11, d(1, 20), 12, "c");
        let w = s.finish();
        // The clash itself, and one of the two does not fit the sequence.
        assert_eq!(w.len(), 2, "{w:#?}");
        assert!(w.iter().any(|w| {
            w.line == 9
                && w.message
                    .contains("dated Jan. 6 2021 here but Jan. 5 2021 at line 3")
        }));
        assert!(
            w.iter()
                .any(|w| w.message.contains("does not fit the sequence"))
        );
    }
}
