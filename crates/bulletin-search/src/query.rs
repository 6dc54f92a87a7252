//! What a researcher types, read into a query: words (stemmed, folded), `"exact
//! phrases"`, `-excluded` words, `OR` between alternatives, and names that mean
//! the same place or country ("Alma-Ata" finds Almaty).
//!
//! The reader never fails on what it is given: an unclosed quote ends at the end
//! of the query, a lone `-` or a dangling `OR` is dropped, control characters are
//! spaces; each such repair is reported as a note. Only limits are errors.

use std::collections::HashMap;
use std::sync::OnceLock;

use bulletin_core::gazetteer;
use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::schema::{Fields, analyzer};

/// Longest query read, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most words and phrases in one query.
pub const MAX_TERMS: usize = 32;
/// How much more a headline match counts than a body match.
pub const HEADLINE_BOOST: f32 = 3.0;
/// Dateline places and country names count, but less than the body.
pub const META_BOOST: f32 = 0.5;

/// A query that cannot be run as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query is {len} characters long; the limit is {max}")]
    TooLong { len: usize, max: usize },
    #[error("the query has {count} words and phrases; the limit is {max}")]
    TooManyTerms { count: usize, max: usize },
    #[error("the date range is inverted: from {from} is after to {to}")]
    InvertedDates { from: String, to: String },
    #[error("unknown country {0:?}: use an ISO code such as KZ or a name such as Kazakhstan")]
    UnknownCountry(String),
    #[error("results {offset}..{end} are beyond the {max} that can be paged through")]
    WindowTooDeep {
        offset: usize,
        end: usize,
        max: usize,
    },
}

/// One thing to look for: alternatives (aliases), each a token sequence (one
/// token: a word; more: a phrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// As typed, for notes and display.
    pub text: String,
    pub alternatives: Vec<Vec<String>>,
}

/// A read query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Every group must match; a group matches when any of its units does (OR).
    pub required: Vec<Vec<Unit>>,
    /// None of these may match.
    pub excluded: Vec<Unit>,
    /// Repairs made while reading, for the reader of the results.
    pub notes: Vec<String>,
    /// Aliases used: what was typed, and the other names searched for it.
    pub expansions: Vec<(String, Vec<String>)>,
}

impl Parsed {
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.excluded.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lexeme {
    Word(String),
    Phrase(String),
    Not(Box<Lexeme>),
    Or,
}

fn lex(input: &str, notes: &mut Vec<String>) -> Vec<Lexeme> {
    let chars: Vec<char> = input
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let negated = c == '-';
        if negated {
            i += 1;
            if i >= chars.len() || chars[i].is_whitespace() {
                notes.push("a lone \"-\" was ignored".into());
                continue;
            }
        }
        let lexeme = if chars[i] == '"' || chars[i] == '\u{201c}' || chars[i] == '\u{201d}' {
            i += 1;
            let start = i;
            while i < chars.len() && !matches!(chars[i], '"' | '\u{201c}' | '\u{201d}') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            if i >= chars.len() {
                notes.push("a closing quote was added at the end".into());
            }
            i += 1;
            Lexeme::Phrase(text)
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            if text == "OR" && !negated {
                Lexeme::Or
            } else {
                Lexeme::Word(text)
            }
        };
        out.push(if negated {
            Lexeme::Not(Box::new(lexeme))
        } else {
            lexeme
        });
    }
    out
}

pub(crate) fn tokens(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Alias groups from the gazetteer (each country's and place's name with its
/// old and alternative names), keyed by their analyzed tokens.
struct Aliases {
    groups: Vec<Vec<(String, Vec<String>)>>,
    by_tokens: HashMap<Vec<String>, usize>,
    longest: usize,
}

fn aliases() -> &'static Aliases {
    static ALIASES: OnceLock<Aliases> = OnceLock::new();
    ALIASES.get_or_init(|| {
        let g = gazetteer();
        let names = g
            .countries
            .iter()
            .map(|c| (&c.name, &c.aliases))
            .chain(g.places.iter().map(|p| (&p.name, &p.aliases)));
        let mut a = Aliases {
            groups: Vec::new(),
            by_tokens: HashMap::new(),
            longest: 1,
        };
        for (name, other) in names {
            if other.is_empty() {
                continue;
            }
            let group: Vec<(String, Vec<String>)> = std::iter::once(name)
                .chain(other)
                .map(|n| (n.clone(), tokens(n)))
                .filter(|(_, t)| !t.is_empty())
                .collect();
            let index = a.groups.len();
            for (_, t) in &group {
                a.longest = a.longest.max(t.len());
                a.by_tokens.entry(t.clone()).or_insert(index);
            }
            a.groups.push(group);
        }
        a
    })
}

/// Reads `input` (at most [`MAX_QUERY_CHARS`]).
pub fn parse(input: &str) -> Result<Parsed, QueryError> {
    let len = input.chars().count();
    if len > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong {
            len,
            max: MAX_QUERY_CHARS,
        });
    }
    let mut parsed = Parsed::default();
    let lexemes = lex(input, &mut parsed.notes);

    // Groups of positive units joined by OR; a pending OR joins the next unit
    // to the last group.
    let mut join_next = false;
    let mut positive: Vec<(Vec<Lexeme>, bool)> = Vec::new(); // (run, joined to previous)
    for (i, lexeme) in lexemes.iter().enumerate() {
        match lexeme {
            Lexeme::Or => {
                let has_left = i > 0 && !matches!(lexemes[i - 1], Lexeme::Or | Lexeme::Not(_));
                let has_right = matches!(
                    lexemes.get(i + 1),
                    Some(Lexeme::Word(_) | Lexeme::Phrase(_))
                );
                if has_left && has_right && !positive.is_empty() {
                    join_next = true;
                } else {
                    parsed
                        .notes
                        .push("an \"OR\" without words on both sides was ignored".into());
                }
            }
            Lexeme::Not(inner) => {
                if let Some(unit) = unit_of(inner, &mut parsed) {
                    parsed.excluded.push(unit);
                }
            }
            Lexeme::Word(_) | Lexeme::Phrase(_) => {
                positive.push((vec![lexeme.clone()], join_next));
                join_next = false;
            }
        }
    }

    // Consecutive plain words that together name an alias ("Alma Ata") are read
    // as that name.
    let mut merged: Vec<(Lexeme, bool)> = Vec::new();
    let mut i = 0;
    while i < positive.len() {
        let mut taken = 1;
        if let Lexeme::Word(_) = &positive[i].0[0] {
            for n in (2..=aliases().longest.min(positive.len() - i)).rev() {
                let run = &positive[i..i + n];
                if run.iter().skip(1).any(|(_, joined)| *joined)
                    || !run.iter().all(|(l, _)| matches!(l[0], Lexeme::Word(_)))
                {
                    continue;
                }
                let text: Vec<String> = run
                    .iter()
                    .filter_map(|(l, _)| match &l[0] {
                        Lexeme::Word(w) => Some(w.clone()),
                        _ => None,
                    })
                    .collect();
                let text = text.join(" ");
                if aliases().by_tokens.contains_key(&tokens(&text)) {
                    merged.push((Lexeme::Phrase(text), positive[i].1));
                    taken = n;
                    break;
                }
            }
        }
        if taken == 1 {
            merged.push((positive[i].0[0].clone(), positive[i].1));
        }
        i += taken;
    }

    for (lexeme, joined) in merged {
        let Some(unit) = unit_of(&lexeme, &mut parsed) else {
            continue;
        };
        match parsed.required.last_mut() {
            Some(group) if joined => group.push(unit),
            _ => parsed.required.push(vec![unit]),
        }
    }
    let count = parsed.required.iter().map(Vec::len).sum::<usize>() + parsed.excluded.len();
    if count > MAX_TERMS {
        return Err(QueryError::TooManyTerms {
            count,
            max: MAX_TERMS,
        });
    }
    Ok(parsed)
}

fn unit_of(lexeme: &Lexeme, parsed: &mut Parsed) -> Option<Unit> {
    let (text, phrase) = match lexeme {
        Lexeme::Word(w) => (w.as_str(), false),
        Lexeme::Phrase(p) => (p.as_str(), true),
        Lexeme::Not(inner) => return unit_of(inner, parsed),
        Lexeme::Or => return None,
    };
    let t = tokens(text);
    if t.is_empty() {
        if !text.trim().is_empty() {
            parsed
                .notes
                .push(format!("{text:?} has no letters or digits and was ignored"));
        } else if phrase {
            parsed.notes.push("an empty phrase was ignored".into());
        }
        return None;
    }
    let mut alternatives = vec![t.clone()];
    if let Some(&group) = aliases().by_tokens.get(&t) {
        let mut others = Vec::new();
        for (name, tokens) in &aliases().groups[group] {
            if !alternatives.contains(tokens) {
                alternatives.push(tokens.clone());
                others.push(name.clone());
            }
        }
        if !others.is_empty() {
            parsed.expansions.push((text.to_owned(), others));
        }
    }
    Some(Unit {
        text: text.to_owned(),
        alternatives,
    })
}

fn tokens_query(f: &Fields, tokens: &[String]) -> Box<dyn Query> {
    let fields = [
        (f.headline, HEADLINE_BOOST),
        (f.body, 1.0),
        (f.meta, META_BOOST),
    ];
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(3);
    for (field, boost) in fields {
        let q: Box<dyn Query> = if tokens.len() == 1 {
            Box::new(TermQuery::new(
                Term::from_field_text(field, &tokens[0]),
                IndexRecordOption::WithFreqs,
            ))
        } else {
            Box::new(PhraseQuery::new(
                tokens
                    .iter()
                    .map(|t| Term::from_field_text(field, t))
                    .collect(),
            ))
        };
        let q: Box<dyn Query> = if boost == 1.0 {
            q
        } else {
            Box::new(BoostQuery::new(q, boost))
        };
        should.push((Occur::Should, q));
    }
    Box::new(BooleanQuery::new(should))
}

fn unit_query(f: &Fields, unit: &Unit) -> Box<dyn Query> {
    if unit.alternatives.len() == 1 {
        return tokens_query(f, &unit.alternatives[0]);
    }
    Box::new(BooleanQuery::new(
        unit.alternatives
            .iter()
            .map(|t| (Occur::Should, tokens_query(f, t)))
            .collect(),
    ))
}

/// The text part of a query as tantivy clauses: one `Must` a group, one `MustNot`
/// an excluded unit.
pub fn text_clauses(f: &Fields, parsed: &Parsed) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses = Vec::new();
    for group in &parsed.required {
        let q = if group.len() == 1 {
            unit_query(f, &group[0])
        } else {
            Box::new(BooleanQuery::new(
                group
                    .iter()
                    .map(|u| (Occur::Should, unit_query(f, u)))
                    .collect(),
            ))
        };
        clauses.push((Occur::Must, q));
    }
    for unit in &parsed.excluded {
        clauses.push((Occur::MustNot, unit_query(f, unit)));
    }
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(q: &str) -> Vec<Vec<Vec<Vec<String>>>> {
        parse(q)
            .unwrap()
            .required
            .into_iter()
            .map(|g| g.into_iter().map(|u| u.alternatives).collect())
            .collect()
    }

    #[test]
    fn words_phrases_or_and_not() {
        let p = parse(r#"pegasus "human rights" -russia baku OR tbilisi"#).unwrap();
        assert_eq!(p.required.len(), 3);
        assert_eq!(p.required[0][0].alternatives, vec![vec!["pegasus"]]);
        assert_eq!(p.required[1][0].alternatives, vec![vec!["human", "right"]]);
        assert_eq!(p.required[2].len(), 2);
        assert_eq!(p.excluded.len(), 1);
        assert!(p.notes.is_empty());
    }

    #[test]
    fn repairs_are_noted_not_refused() {
        for q in [
            "\"unclosed phrase",
            "-",
            "OR OR",
            "a OR",
            "OR a",
            "\u{0}\u{7}x",
            "\"\"",
            "---",
        ] {
            let p = parse(q).unwrap();
            assert!(!p.notes.is_empty() || !p.is_empty(), "{q:?}: {p:?}");
        }
        assert_eq!(
            groups("\"unclosed phrase"),
            vec![vec![vec![vec!["unclos", "phrase"]]]]
        );
        assert!(parse("OR OR").unwrap().is_empty());
    }

    #[test]
    fn aliases_expand_both_ways() {
        let p = parse("Alma-Ata").unwrap();
        assert!(
            p.required[0][0]
                .alternatives
                .contains(&vec!["almati".to_owned()])
        );
        let p = parse("almaty").unwrap();
        assert!(
            p.required[0][0]
                .alternatives
                .iter()
                .any(|a| a == &["alma", "ata"])
        );
        // Two plain words naming an alias are read as the name.
        let p = parse("alma ata protest").unwrap();
        assert_eq!(p.required.len(), 2);
        assert!(
            p.required[0][0]
                .alternatives
                .contains(&vec!["almati".to_owned()])
        );
    }

    #[test]
    fn limits_are_errors() {
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert!(matches!(parse(&long), Err(QueryError::TooLong { .. })));
        let many = vec!["word"; MAX_TERMS + 1].join(" ");
        assert!(matches!(parse(&many), Err(QueryError::TooManyTerms { .. })));
    }
}
