//! Property tests: the round trip `read(write(read(x))) == read(x)`, every accepted
//! variation reads like the canonical form, and no input makes the reader panic.

use bulletin_core::{Access, Copyright, Date, Dateline, IssueRef, Story, slugify};
use bulletin_text::{Document, Reader, read_str, write_to_string};
use proptest::prelude::*;

const PLACES: &[&str] = &[
    "Baku",
    "Almaty",
    "Alma-Ata",
    "Tbilisi",
    "Osh",
    "Nebit Dag",
    "Port Smith",
];
const WORDS: &[&str] = &[
    "the",
    "minister",
    "said",
    "court",
    "protest",
    "\u{201c}quoted\u{201d}",
    "don\u{2019}t",
    "1,000",
    "Kazakh",
    "oil",
    "&",
    "50%",
    "Dushanbe",
    "(RFE/RL)",
    "July",
    "\u{2014}",
    "x\u{a0}y",
];

fn words(min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), min..max).prop_map(|w| {
        let mut s = w.join(" ");
        if let Some(first) = s.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        s
    })
}

fn story() -> impl Strategy<Value = Story> {
    (
        words(2, 10),
        prop::collection::vec(prop::sample::select(PLACES), 0..3),
        (1995i16..2030, 1i8..=12, 1i8..=28, 0i8..20),
        any::<bool>(),
        prop::collection::vec(words(1, 30), 1..6),
        (1u32..2000, any::<bool>(), any::<bool>()),
        prop::sample::select(
            &[
                "Example Bulletin",
                "Central Asia & South Caucasus Bulletin",
                "News on Sunday",
            ][..],
        ),
        prop::collection::vec(
            prop::sample::select(&["elections", "energy", "media freedom"][..]),
            0..3,
        ),
    )
        .prop_map(
            |(
                headline,
                places,
                (y, m, d, lag),
                no_year,
                body,
                (number, dated, first),
                holder,
                tags,
            )| {
                let date = Date::new(y, m, d).unwrap();
                let issue_date = date
                    .checked_add(jiff::Span::new().days(lag as i64))
                    .unwrap();
                // A year can be left out only where it can be inferred again.
                let year_inferred = no_year && dated;
                let mut tags: Vec<String> = tags.into_iter().map(str::to_owned).collect();
                tags.dedup();
                let mut s = Story {
                    slug: slugify(&headline),
                    headline,
                    dateline: Dateline {
                        places: places.into_iter().map(str::to_owned).collect(),
                        date,
                        year_inferred,
                        credit: "The Bulletin".into(),
                    },
                    body,
                    tags,
                    countries: vec![],
                    issue: Some(IssueRef {
                        number,
                        date: dated.then_some(issue_date),
                    }),
                    first_published: first,
                    copyright: Copyright {
                        holder: holder.into(),
                        year: y,
                    },
                    access: Access::Public,
                };
                if s.slug.is_empty() {
                    s.slug = "story".into();
                }
                s.countries = s.derive_countries();
                s
            },
        )
}

fn document() -> impl Strategy<Value = Document> {
    (
        prop::option::of(Just("political rights".to_owned())),
        prop::collection::vec(story(), 0..6),
    )
        .prop_map(|(tag, mut stories)| {
            for s in &mut stories {
                if let Some(t) = &tag {
                    s.tags.retain(|x| x != t);
                    s.tags.insert(0, t.clone());
                }
            }
            Document { tag, stories }
        })
}

/// Re-spells canonical text with the variations real files have.
fn vary(canonical: &str, choices: &[u8]) -> String {
    let pick = |i: usize| choices.get(i % choices.len().max(1)).copied().unwrap_or(0);
    let mut out = String::new();
    if pick(0) % 2 == 0 {
        out.push('\u{feff}');
    }
    let eol = if pick(1) % 2 == 0 { "\r\n" } else { "\n" };
    for (i, line) in canonical.lines().enumerate() {
        let c = pick(i + 2);
        let mut line = line.to_owned();
        if line == "ENDS" && c % 2 == 0 {
            line = "\u{2014} ENDS".into();
        }
        if line.contains(" (The Bulletin) \u{2014} ") {
            line = match c % 4 {
                0 => line.replacen(") \u{2014} ", ") \u{2013}", 1),
                1 => line.replacen(") \u{2014} ", ")\u{a0}\u{2014}\u{a0} ", 1),
                2 => line.replacen(" (The", "\u{a0} (The", 1),
                _ => line,
            };
        }
        if line.contains(", on ") && c % 3 == 0 {
            line = line.replacen(", on ", ", published on ", 1) + ".";
        }
        match c % 5 {
            0 => line.push(' '),
            1 => line.push('\u{a0}'),
            _ => {}
        }
        out.push_str(&line);
        out.push_str(eol);
        if c % 7 == 0 {
            out.push_str(eol);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn write_then_read_gives_the_model_back(doc in document()) {
        let text = write_to_string(&doc);
        let read = read_str(&text).map_err(|e| TestCaseError::fail(format!("{e:#?}\n{text}")))?;
        prop_assert_eq!(&read, &doc);
        // read(write(read(x))) == read(x)
        prop_assert_eq!(read_str(&write_to_string(&read)).unwrap(), read);
    }

    #[test]
    fn variations_read_like_the_canonical_form(doc in document(), choices in prop::collection::vec(any::<u8>(), 1..64)) {
        let canonical = write_to_string(&doc);
        let varied = vary(&canonical, &choices);
        let read = read_str(&varied).map_err(|e| TestCaseError::fail(format!("{e:#?}\n{varied:?}")))?;
        prop_assert_eq!(&read, &doc);
        prop_assert_eq!(read_str(&write_to_string(&read)).unwrap(), read);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut reader = Reader::new(&bytes[..]);
        for item in &mut reader {
            if let Err(e) = item {
                prop_assert!(e.line >= 1 && e.column >= 1);
                let _ = e.display("x").to_string();
            }
        }
        let _ = reader.finish();
    }

    #[test]
    fn damaged_stories_never_panic(doc in document(), cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = write_to_string(&doc).into_bytes();
        for (at, b) in cuts {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match b % 3 {
                0 => { bytes.remove(i); }
                1 => bytes[i] = b,
                _ => bytes.insert(i, b"\n/(\xe2\x80\x94"[b as usize % 6]),
            }
        }
        for item in Reader::new(&bytes[..]) {
            if let Err(e) = item { prop_assert!(e.line >= 1); }
        }
    }
}
