//! Step 3, the queries: fixed by the seed, from the words of a sample of the
//! stories.

use std::collections::{BTreeSet, HashMap};

use bulletin_core::Story;
use bulletin_store::{Store, StoryQuery};

use crate::Result;

// A small deterministic PRNG (splitmix64), so that the queries are the same on
// every machine and in every build.

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Word,
    TwoWords,
    Phrase,
    Filtered,
    Newest,
}

pub(crate) const KINDS: [Kind; 5] = [
    Kind::Word,
    Kind::TwoWords,
    Kind::Phrase,
    Kind::Filtered,
    Kind::Newest,
];

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Word => "word",
            Kind::TwoWords => "two words",
            Kind::Phrase => "phrase",
            Kind::Filtered => "word+country",
            Kind::Newest => "word, newest",
        }
    }

    /// Share of the query set, in 200ths.
    fn share(self) -> usize {
        match self {
            Kind::Word => 60,
            Kind::TwoWords => 50,
            Kind::Phrase => 40,
            Kind::Filtered => 30,
            Kind::Newest => 20,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BenchQuery {
    pub(crate) kind: Kind,
    /// Lowercase words; a phrase is one unit of several words.
    words: Vec<String>,
    /// Where it came from (a tier for single words).
    pub(crate) note: &'static str,
    pub(crate) country: Option<String>,
}

impl BenchQuery {
    fn is_phrase(&self) -> bool {
        self.kind == Kind::Phrase
    }

    pub(crate) fn newest(&self) -> bool {
        self.kind == Kind::Newest
    }

    /// bulletin's syntax, which is also what websearch_to_tsquery reads:
    /// `word word` (AND) or `"a phrase"`.
    pub(crate) fn text(&self) -> String {
        if self.is_phrase() {
            format!("\"{}\"", self.words.join(" "))
        } else {
            self.words.join(" ")
        }
    }

    /// An FTS5 MATCH expression of the same meaning: `"a" "b"` (AND of words) or
    /// `"a phrase"`.
    pub(crate) fn fts5(&self) -> String {
        if self.is_phrase() {
            format!("\"{}\"", self.words.join(" "))
        } else {
            self.words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" ")
        }
    }

    pub(crate) fn label(&self) -> String {
        match &self.country {
            Some(c) => format!("{} [country {c}]", self.text()),
            None if self.newest() => format!("{} [newest]", self.text()),
            None => self.text(),
        }
    }
}

/// PostgreSQL's English stop words (the Snowball list its `english` configuration
/// drops): kept out of the queries, which would otherwise mean different things
/// in PostgreSQL (dropped) and in FTS5 and bulletin (matched).
const STOP_WORDS: &str = "\
    i me my myself we our ours ourselves you your yours yourself yourselves he him \
    his himself she her hers herself it its itself they them their theirs themselves \
    what which who whom this that these those am is are was were be been being have \
    has had having do does did doing a an the and but if or because as until while \
    of at by for with about against between into through during before after above \
    below to from up down in out on off over under again further then once here \
    there when where why how all any both each few more most other some such no nor \
    not only own same so than too very s t can will just don should now";

/// One whitespace-separated token of story text: its letters (if it is a plain
/// word) and whether punctuation stood before or after it.
struct Token {
    word: Option<String>,
    lead: bool,
    trail: bool,
    /// The first of a headline or a paragraph.
    first: bool,
}

fn tokens(text: &str) -> Vec<Token> {
    let edge = |c: char| !c.is_alphanumeric();
    text.split_whitespace()
        .map(|raw| {
            let core = raw.trim_matches(edge);
            let lead = raw.len() - raw.trim_start_matches(edge).len() > 0;
            let trail = raw.len() - raw.trim_end_matches(edge).len() > 0;
            let plain = core.len() >= 3 && core.bytes().all(|b| b.is_ascii_alphabetic());
            let word = core.to_ascii_lowercase();
            let word = (plain && !STOP_WORDS.split_whitespace().any(|s| s == word)).then_some(word);
            Token {
                word,
                lead,
                trail,
                first: false,
            }
        })
        .collect()
}

/// The tokens of a story's headline and readable paragraphs, each part's first
/// marked: a phrase must not span two parts (PostgreSQL's concatenated tsvectors
/// would find it across the headline and the body; the others would not).
fn story_tokens(story: &Story) -> Vec<Token> {
    let mut out = Vec::new();
    let parts = std::iter::once(&story.headline)
        .chain(bulletin_core::render::visible_body(story, false).iter());
    for part in parts {
        let mut part = tokens(part);
        if let Some(first) = part.first_mut() {
            first.first = true;
        }
        out.extend(part);
    }
    out
}

/// Stories spread over the whole store, chosen by the seed.
pub(crate) async fn sample_stories(
    store: &dyn Store,
    total: u64,
    rng: &mut Rng,
) -> Result<Vec<Story>> {
    const SLICES: u64 = 10;
    const PER_SLICE: u32 = 40;
    let mut out = Vec::new();
    for k in 0..SLICES {
        let span = (total / SLICES).max(1);
        let room = span.saturating_sub(u64::from(PER_SLICE)).max(1);
        let offset = k * span + rng.below(room as usize) as u64;
        let page = store
            .stories(&StoryQuery {
                offset: u32::try_from(offset.min(total.saturating_sub(1)))?,
                limit: PER_SLICE,
                ..StoryQuery::default()
            })
            .await?;
        out.extend(page.stories);
    }
    Ok(out)
}

pub(crate) fn make_queries(sample: &[Story], n: usize, rng: &mut Rng) -> Result<Vec<BenchQuery>> {
    // How many of each kind: the 60/50/40/30/20 of 200, scaled.
    let mut counts: Vec<(Kind, usize)> = KINDS.iter().map(|&k| (k, n * k.share() / 200)).collect();
    let mut short = n - counts.iter().map(|c| c.1).sum::<usize>();
    for c in counts.iter_mut() {
        if short == 0 {
            break;
        }
        c.1 += 1;
        short -= 1;
    }

    let texts: Vec<Vec<Token>> = sample.iter().map(story_tokens).collect();
    // Document frequency of each word in the sample.
    let mut df: HashMap<&str, usize> = HashMap::new();
    for t in &texts {
        let words: BTreeSet<&str> = t.iter().filter_map(|t| t.word.as_deref()).collect();
        for w in words {
            *df.entry(w).or_default() += 1;
        }
    }
    let mut by_df: Vec<(&str, usize)> = df.iter().map(|(w, n)| (*w, *n)).collect();
    by_df.sort_by_key(|&(word, df)| (std::cmp::Reverse(df), word));
    let common: Vec<&str> = by_df.iter().take(150).map(|x| x.0).collect();
    let rare: Vec<&str> = by_df.iter().filter(|x| x.1 == 1).map(|x| x.0).collect();
    let mid: Vec<&str> = by_df
        .iter()
        .skip(150)
        .filter(|x| x.1 > 1)
        .map(|x| x.0)
        .collect();
    if common.len() < 20 || mid.len() < 20 || rare.len() < 20 {
        return Err(format!(
            "the sample is too small for the query mix: {} common, {} middling, {} rare words",
            common.len(),
            mid.len(),
            rare.len()
        )
        .into());
    }

    let mut queries: Vec<BenchQuery> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut push = |q: BenchQuery, queries: &mut Vec<BenchQuery>| {
        if seen.insert(q.label()) {
            queries.push(q);
            true
        } else {
            false
        }
    };
    let word = |w: &str| vec![w.to_owned()];
    for &(kind, count) in &counts {
        let mut made = 0;
        let mut tries = 0;
        while made < count {
            tries += 1;
            if tries > 100_000 {
                return Err(
                    format!("could not make {count} distinct {} queries", kind.name()).into(),
                );
            }
            let q = match kind {
                Kind::Word => {
                    // A third each: common, middling and rare words (in the sample).
                    let (tier, note) = match made % 3 {
                        0 => (&common, "common"),
                        1 => (&mid, "middling"),
                        _ => (&rare, "rare"),
                    };
                    let Some(w) = rng.pick(tier) else { continue };
                    BenchQuery {
                        kind,
                        words: word(w),
                        note,
                        country: None,
                    }
                }
                Kind::TwoWords => {
                    // Two words of one story, so that something matches both.
                    let t = &texts[rng.below(texts.len())];
                    let words: Vec<&str> = t.iter().filter_map(|t| t.word.as_deref()).collect();
                    let (Some(a), Some(b)) = (rng.pick(&words), rng.pick(&words)) else {
                        continue;
                    };
                    if a == b {
                        continue;
                    }
                    BenchQuery {
                        kind,
                        words: vec![(*a).to_owned(), (*b).to_owned()],
                        note: "two words of one story",
                        country: None,
                    }
                }
                Kind::Phrase => {
                    // Two or three consecutive plain words of a headline or a
                    // paragraph, with no punctuation inside.
                    let t = &texts[rng.below(texts.len())];
                    let len = 2 + rng.below(2);
                    if t.len() < len {
                        continue;
                    }
                    let start = rng.below(t.len() - len + 1);
                    let window = &t[start..start + len];
                    let ok = window.iter().enumerate().all(|(i, tok)| {
                        tok.word.is_some()
                            && (i == 0 || !(tok.lead || tok.first))
                            && (i + 1 == len || !tok.trail)
                    });
                    if !ok {
                        continue;
                    }
                    BenchQuery {
                        kind,
                        words: window.iter().filter_map(|t| t.word.clone()).collect(),
                        note: "from story text",
                        country: None,
                    }
                }
                Kind::Filtered => {
                    // A word of a story and the story's (first) country.
                    let i = rng.below(texts.len());
                    let Some(country) = sample[i].countries.first() else {
                        continue;
                    };
                    let words: Vec<&str> =
                        texts[i].iter().filter_map(|t| t.word.as_deref()).collect();
                    let Some(w) = rng.pick(&words) else { continue };
                    BenchQuery {
                        kind,
                        words: word(w),
                        note: "a word of a story, its country",
                        country: Some(country.to_ascii_uppercase()),
                    }
                }
                Kind::Newest => {
                    let (tier, note) = if made % 2 == 0 {
                        (&common, "common")
                    } else {
                        (&mid, "middling")
                    };
                    let Some(w) = rng.pick(tier) else { continue };
                    BenchQuery {
                        kind,
                        words: word(w),
                        note,
                        country: None,
                    }
                }
            };
            if push(q, &mut queries) {
                made += 1;
            }
        }
    }
    Ok(queries)
}
