//! The generator's promises: determinism, layout, consistent dates and numbers,
//! every variation present, nothing copied from the corpus.

use std::collections::HashSet;

use bulletin_core::Month;

use super::calendar::{WEEKDAYS, civil_from_days, days_from_civil};
use super::rng::Rng;
use super::story::stories_per_issue;
use super::text::mistype;
use super::vocabulary::vocabulary;
use super::*;

fn gen_with(options: &GenOptions) -> (String, GenStats) {
    let mut out = Vec::new();
    let stats = generate(options, &mut out).expect("writing to a Vec cannot fail");
    assert_eq!(stats.bytes, out.len() as u64);
    (String::from_utf8(out).expect("output is UTF-8"), stats)
}

fn gen_text(stories: u64, seed: u64) -> (String, GenStats) {
    gen_with(&GenOptions {
        stories,
        seed,
        ..GenOptions::default()
    })
}

/// One story as written, split into its lines.
#[derive(Debug)]
struct Raw<'a> {
    headline: &'a str,
    dateline: &'a str,
    paragraphs: Vec<&'a str>,
    ends: &'a str,
    issue_line: &'a str,
    copyright: &'a str,
    tags: Option<&'a str>,
}

/// Split the generator's output into stories (LF line ends, no BOM, no header).
fn split(text: &str) -> Vec<Raw<'_>> {
    let lines: Vec<&str> = text.split('\n').filter(|l| !l.is_empty()).collect();
    let mut stories = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let headline = lines[i];
        let dateline = lines[i + 1];
        let mut j = i + 2;
        let mut paragraphs = vec![dateline];
        while lines[j] != "ENDS" && lines[j] != "— ENDS" {
            paragraphs.push(lines[j]);
            j += 1;
        }
        let ends = lines[j];
        let issue_line = lines[j + 1];
        let copyright = lines[j + 2];
        assert!(
            issue_line.starts_with("— This story was "),
            "{issue_line:?}"
        );
        assert!(copyright.starts_with("— Copyright the "), "{copyright:?}");
        let tags = lines
            .get(j + 3)
            .copied()
            .filter(|l| l.starts_with("— Tags: "));
        i = j + 3 + usize::from(tags.is_some());
        stories.push(Raw {
            headline,
            dateline,
            paragraphs,
            ends,
            issue_line,
            copyright,
            tags,
        });
    }
    stories
}

#[derive(Debug)]
struct Dateline {
    places: Vec<String>,
    month: u32,
    day: u32,
    year: Option<i64>,
}

fn parse_dateline(line: &str) -> Dateline {
    let at = line.find("(The Bulletin)").expect("credit");
    let head = line[..at].trim_end_matches([' ', '\u{a0}']);
    let mut parts: Vec<&str> = head.split('/').collect();
    let date = parts.pop().expect("date");
    let mut words = date.split(' ');
    let month = words
        .next()
        .and_then(|m| Month::ALL.iter().position(|x| x.ap_upper() == m));
    let month = month.expect("AP month") as u32 + 1;
    let day: u32 = words.next().expect("day").parse().expect("day number");
    let year = words.next().map(|y| y.parse().expect("year number"));
    assert!(words.next().is_none(), "{line:?}");
    assert!((1..=31).contains(&day));
    let places = parts.iter().map(|p| p.to_string()).collect();
    Dateline {
        places,
        month,
        day,
        year,
    }
}

#[derive(Debug)]
struct IssueLine {
    first: bool,
    number: u64,
    /// (y, m, d) and the form: 0 `, on`, 1 `, published on`.
    date: Option<((i64, u32, u32), u8)>,
    full_stop: bool,
}

fn parse_issue_line(line: &str) -> IssueLine {
    let rest = line.strip_prefix("— This story was ").expect("issue line");
    let (first, rest) = match rest.strip_prefix("first ") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest
        .strip_prefix("published in issue ")
        .expect("published in issue");
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let number = rest[..digits].parse().expect("issue number");
    let rest = rest[digits..]
        .strip_prefix(" of the Central Asia & South Caucasus Bulletin")
        .expect("publication");
    if rest.is_empty() {
        return IssueLine {
            first,
            number,
            date: None,
            full_stop: false,
        };
    }
    let (form, rest) = match rest.strip_prefix(", on ") {
        Some(r) => (0, r),
        None => (1, rest.strip_prefix(", published on ").expect("date form")),
    };
    let (full_stop, rest) = match rest.strip_suffix('.') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let w: Vec<&str> = rest.split(' ').collect();
    assert_eq!(w.len(), 3, "{line:?}");
    let m = Month::ALL
        .iter()
        .position(|x| x.ap() == w[0])
        .expect("issue month") as u32
        + 1;
    let d = w[1].parse().expect("issue day");
    let y = w[2].parse().expect("issue year");
    IssueLine {
        first,
        number,
        date: Some(((y, m, d), form)),
        full_stop,
    }
}

fn copyright_year(line: &str) -> i64 {
    line.strip_prefix("— Copyright the Central Asia & South Caucasus Bulletin ")
        .expect("copyright line")
        .parse()
        .expect("copyright year")
}

/// Indexes of stories whose issue number breaks the sequence (true numbers go up
/// by one from issue to issue).
fn anomalies(numbers: &[u64]) -> Vec<usize> {
    let mut last = 0;
    let mut bad = Vec::new();
    for (i, &n) in numbers.iter().enumerate() {
        // A story may follow a mistyped issue, so skipping one number is allowed.
        if n >= last && n <= last + 2 {
            last = n;
        } else {
            bad.push(i);
        }
    }
    bad
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, sa) = gen_text(2_000, 7);
    let (b, sb) = gen_text(2_000, 7);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    let (c, _) = gen_text(2_000, 8);
    assert_ne!(a, c);
}

#[test]
fn writes_the_requested_number_of_stories() {
    for n in [0, 1, 2, 7, 13, 5_000] {
        let (text, stats) = gen_text(n, 3);
        let ends = text
            .lines()
            .filter(|l| *l == "ENDS" || *l == "— ENDS")
            .count();
        assert_eq!(ends as u64, n);
        assert_eq!(stats.stories, n);
        assert_eq!(split(&text).len() as u64, n);
        if n == 0 {
            assert!(text.is_empty());
            assert_eq!(stats.issues, 0);
        } else {
            assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
            assert!(stats.issues >= 1 && stats.issues <= n);
        }
    }
}

#[test]
fn layout_is_blank_line_separated_blocks() {
    let (text, _) = gen_text(3_000, 11);
    assert!(!text.contains("\n\n\n"));
    assert!(
        !text.contains('{') && !text.contains('}'),
        "unexpanded template slot"
    );
    assert!(!text.contains('\r') && !text.starts_with('\u{feff}'));
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        // Non-blank and blank lines alternate.
        assert_eq!(l.is_empty(), i % 2 == 1, "line {}: {l:?}", i + 1);
    }
    for s in split(&text) {
        assert!(
            !s.headline.ends_with('.') && !s.headline.ends_with(' '),
            "{:?}",
            s.headline
        );
        assert!(
            s.headline
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        );
        assert!((1..=8).contains(&s.paragraphs.len()));
        for p in &s.paragraphs[1..] {
            assert!(!p.starts_with([' ', '\u{a0}']), "{p:?}");
        }
    }
}

#[test]
fn dates_issue_numbers_and_copyright_are_consistent() {
    for seed in [1, 2, 3] {
        let (text, stats) = gen_text(5_000, seed);
        let stories = split(&text);
        let mut numbers = Vec::new();
        let mut last_issue_date = i64::MIN;
        for s in &stories {
            let d = parse_dateline(s.dateline);
            let issue = parse_issue_line(s.issue_line);
            let cy = copyright_year(s.copyright);
            numbers.push(issue.number);
            if let Some(y) = d.year {
                assert_eq!(y, cy, "copyright year is the dateline's year");
            }
            let Some(((iy, im, id), _)) = issue.date else {
                continue;
            };
            let issue_day = days_from_civil(iy, im, id);
            assert!(issue_day >= last_issue_date, "issue dates go forward");
            last_issue_date = issue_day;
            // The year, as a reader infers it when absent: on or before the issue.
            let year = d.year.unwrap_or_else(|| {
                if days_from_civil(iy, d.month, d.day) <= issue_day {
                    iy
                } else {
                    iy - 1
                }
            });
            assert_eq!(year, cy);
            let story_day = days_from_civil(year, d.month, d.day);
            assert_eq!(
                civil_from_days(story_day),
                (year, d.month, d.day),
                "valid date"
            );
            assert!(
                story_day <= issue_day,
                "{} after {:?}",
                s.dateline,
                issue.date
            );
            assert!(
                issue_day - story_day <= 14,
                "{} long before {:?}",
                s.dateline,
                issue.date
            );
        }
        // Issue numbers increase by one from issue to issue, apart from the typos.
        let bad = anomalies(&numbers);
        let bad_issues: HashSet<u64> = bad.iter().map(|&i| numbers[i]).collect();
        assert!(
            !bad.is_empty(),
            "seed {seed}: expected a mistyped issue number"
        );
        assert!(bad_issues.len() <= 2, "seed {seed}: {bad_issues:?}");
        let good: Vec<u64> = numbers
            .iter()
            .enumerate()
            .filter(|(i, _)| !bad.contains(i))
            .map(|(_, &n)| n)
            .collect();
        assert!(good.windows(2).all(|w| w[1] >= w[0] && w[1] <= w[0] + 2));
        let skips = good.windows(2).filter(|w| w[1] == w[0] + 2).count();
        assert_eq!(skips, bad_issues.len(), "only a mistyped issue is skipped");
        assert_eq!(good.first(), Some(&1));
        assert_eq!(good.last().copied(), Some(stats.issues));
        // Issues start in (late) 1994/1995.
        let first = parse_issue_line(stories[0].issue_line);
        if let Some(((y, _, _), _)) = first.date {
            assert_eq!(y, 1995);
        }
    }
}

#[test]
fn every_variation_appears_in_5000_stories() {
    let old: HashSet<&str> = vocabulary()
        .countries
        .iter()
        .flat_map(|c| c.old.iter().map(|(_, s)| *s))
        .collect();
    for seed in [1, 2, 3, 4] {
        let (text, _) = gen_text(5_000, seed);
        let stories = split(&text);
        let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
        let mut numbers = Vec::new();
        for s in &stories {
            let mut hit = |name: &'static str, cond: bool| {
                *seen.entry(name).or_default() += usize::from(cond);
            };
            let d = parse_dateline(s.dateline);
            let issue = parse_issue_line(s.issue_line);
            numbers.push(issue.number);
            hit("em dash", s.dateline.contains("(The Bulletin) — "));
            hit("en dash, no space", {
                let at = s.dateline.find("(The Bulletin) –");
                at.is_some_and(|i| !s.dateline[i + "(The Bulletin) –".len()..].starts_with(' '))
            });
            hit(
                "nbsp after dash",
                s.dateline.contains("(The Bulletin) —\u{a0} "),
            );
            hit(
                "nbsp+space after date",
                s.dateline.contains("\u{a0} (The Bulletin)"),
            );
            hit(
                "nbsp after date",
                s.dateline.contains("\u{a0}(The Bulletin)"),
            );
            hit(
                "trailing nbsp",
                s.paragraphs.iter().any(|p| p.ends_with('\u{a0}')),
            );
            hit(
                "trailing space",
                s.paragraphs.iter().any(|p| p.ends_with(' ')),
            );
            hit(
                "nbsp between sentences",
                s.paragraphs.iter().any(|p| p.contains(".\u{a0} ")),
            );
            hit("no year", d.year.is_none());
            hit(
                "no year, December story in January issue",
                d.year.is_none()
                    && d.month == 12
                    && issue.date.is_some_and(|((_, m, _), _)| m == 1),
            );
            hit("0 places", d.places.is_empty());
            hit("1 place", d.places.len() == 1);
            hit("3 places", d.places.len() == 3);
            hit(
                "old spelling",
                d.places.iter().any(|p| old.contains(p.as_str())),
            );
            hit("ENDS", s.ends == "ENDS");
            hit("— ENDS", s.ends == "— ENDS");
            hit("published", !issue.first);
            hit("first published", issue.first);
            hit("issue line without date", issue.date.is_none());
            hit(", on DATE", issue.date.is_some_and(|(_, f)| f == 0));
            hit(
                ", published on DATE",
                issue.date.is_some_and(|(_, f)| f == 1),
            );
            hit("full stop", issue.full_stop);
            hit("tags", s.tags.is_some());
            hit("no tags", s.tags.is_none());
            hit(
                "three tags",
                s.tags.is_some_and(|t| t.matches(", ").count() == 2),
            );
            hit(
                "headline quote",
                s.headline.contains('“') && s.headline.contains('”'),
            );
            hit("headline apostrophe", s.headline.contains('’'));
            hit("body quote", s.paragraphs.iter().any(|p| p.contains('“')));
            hit("1 paragraph", s.paragraphs.len() == 1);
            hit("8 paragraphs", s.paragraphs.len() == 8);
        }
        seen.insert("issue number typo", anomalies(&numbers).len());
        for (name, count) in &seen {
            assert!(*count > 0, "seed {seed}: no {name:?} in 5,000 stories");
        }
        if seed == 1 {
            eprintln!("variation counts in 5,000 stories: {seen:#?}");
        }
    }
}

#[test]
fn crlf_bom_and_header_options() {
    let plain = GenOptions {
        stories: 300,
        seed: 5,
        ..GenOptions::default()
    };
    let (lf, lf_stats) = gen_with(&plain);

    let (crlf, crlf_stats) = gen_with(&GenOptions {
        crlf: true,
        ..plain.clone()
    });
    assert!(crlf.ends_with("\r\n"));
    assert_eq!(crlf.matches('\n').count(), crlf.matches("\r\n").count());
    assert_eq!(crlf.replace("\r\n", "\n"), lf);
    assert_eq!(
        crlf_stats.bytes,
        lf_stats.bytes + lf.matches('\n').count() as u64
    );
    assert_eq!(crlf_stats.stories, lf_stats.stories);

    let (bom, bom_stats) = gen_with(&GenOptions {
        bom: true,
        ..plain.clone()
    });
    assert_eq!(bom.strip_prefix('\u{feff}'), Some(lf.as_str()));
    assert_eq!(bom_stats.bytes, lf_stats.bytes + 3);

    let tagged = GenOptions {
        header_tag: Some("political rights".into()),
        ..plain.clone()
    };
    let (head, _) = gen_with(&tagged);
    let body = head
        .strip_prefix("Tag Archives: political rights\n\n")
        .expect("header");
    assert_eq!(split(body).len(), 300);
    for s in split(body) {
        if let Some(t) = s.tags {
            assert!(t.starts_with("— Tags: political rights"), "{t:?}");
            assert_eq!(t.matches("political rights").count(), 1, "{t:?}");
        }
    }

    let all = GenOptions {
        crlf: true,
        bom: true,
        ..tagged
    };
    let (both, _) = gen_with(&all);
    assert!(both.starts_with("\u{feff}Tag Archives: political rights\r\n\r\n"));
    assert_eq!(
        both.trim_start_matches('\u{feff}').replace("\r\n", "\n"),
        head
    );
}

#[test]
fn headlines_are_mostly_unique() {
    let (text, _) = gen_text(5_000, 9);
    let stories = split(&text);
    let unique: HashSet<&str> = stories.iter().map(|s| s.headline).collect();
    assert!(
        unique.len() * 10 >= stories.len() * 8,
        "{} unique of {}",
        unique.len(),
        stories.len()
    );
}

#[test]
fn runs_stay_far_from_year_9999() {
    for stories in [1, 1_000, 250_000, 1_000_000, 10_000_000, u64::MAX / 2] {
        let (lo, hi) = stories_per_issue(stories);
        assert!(lo >= 3 && hi == 4 * lo);
        let max_issues = stories / lo + 1;
        let last_year = 1995 + max_issues.saturating_mul(17) / 365 + 1;
        assert!(last_year < 6_000, "{stories}: {last_year}");
    }
}

#[test]
fn mistyped_numbers_do_not_fit() {
    let mut rng = Rng::new(1);
    for n in [1, 7, 10, 99, 100, 480, 1_234, 33_333] {
        for _ in 0..10 {
            let m = mistype(n, &mut rng);
            assert_ne!(m, n);
            assert_ne!(m, n + 1);
            assert_ne!(m + 1, n);
        }
    }
    assert_eq!(mistype(7, &mut rng), 77);
    assert!(matches!(mistype(480, &mut rng), 48 | 40));
}

#[test]
fn day_arithmetic_round_trips() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(civil_from_days(days_from_civil(2021, 7, 22)), (2021, 7, 22));
    assert_eq!(
        civil_from_days(days_from_civil(2024, 2, 29) + 1),
        (2024, 3, 1)
    );
    // 2021-07-22 was a Thursday.
    assert_eq!(
        WEEKDAYS[(days_from_civil(2021, 7, 22) + 3).rem_euclid(7) as usize],
        "Thursday"
    );
    for z in (-1_000_000..3_000_000).step_by(997) {
        let (y, m, d) = civil_from_days(z);
        assert_eq!(days_from_civil(y, m, d), z);
    }
}

/// The corpus sample (absent: a failure saying how to provide it, or a counted
/// skip when skipping is allowed).
fn corpus() -> Option<String> {
    let path = bulletin_test_support::shared("corpus/tag-archive-political-rights.txt")?;
    Some(std::fs::read_to_string(path).unwrap())
}

fn words(s: &str) -> Vec<String> {
    s.replace('\u{a0}', " ")
        .split(|c: char| !(c.is_alphanumeric() || c == '’' || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

#[test]
fn no_corpus_sentence_or_phrase_in_the_output() {
    let Some(corpus) = corpus() else { return };
    let (text, _) = gen_text(5_000, 1);
    let (text2, _) = gen_text(2_000, 2);
    let output = format!("{text}{text2}").replace('\u{a0}', " ");
    // The story text of the corpus: not its header or footers (those are facts of
    // the format, which the generator must reproduce).
    let lines: Vec<&str> = corpus
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}'))
        .filter(|l| {
            !l.trim().is_empty()
                && !l.starts_with('—')
                && !l.starts_with("ENDS")
                && !l.starts_with("Tag Archives")
        })
        .collect();
    assert!(lines.len() > 20);
    let mut sentences = 0;
    for line in &lines {
        // Drop the dateline before the dash.
        let body = line.split_once("(The Bulletin)").map_or(*line, |(_, b)| b);
        let body = body.replace('\u{a0}', " ");
        let body = body.trim_start_matches([' ', '—', '–']).trim();
        for sentence in body.split_inclusive(['.', '?', '!']) {
            let sentence = sentence.trim();
            if sentence.split(' ').count() >= 4 {
                sentences += 1;
                assert!(
                    !output.contains(sentence),
                    "corpus sentence in output: {sentence:?}"
                );
            }
        }
    }
    assert!(sentences > 30);
    // No run of seven words from the corpus's stories either.
    let n = 7;
    let mut shingles = HashSet::new();
    // The dateline and credit are the format, not prose: compare what follows.
    fn prose(line: &str) -> &str {
        line.split_once("(The Bulletin)").map_or(line, |(_, b)| b)
    }
    for line in &lines {
        let w = words(prose(line));
        for win in w.windows(n) {
            shingles.insert(win.join(" "));
        }
    }
    for line in output.lines().filter(|l| !l.starts_with('—')) {
        let w = words(prose(line));
        for win in w.windows(n) {
            assert!(
                !shingles.contains(&win.join(" ")),
                "corpus phrase in output: {win:?}"
            );
        }
    }
}
