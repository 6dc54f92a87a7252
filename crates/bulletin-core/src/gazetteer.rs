//! Places and countries of Central Asia and the South Caucasus, with the old and
//! alternative names researchers meet in archives. The data is `data/gazetteer.tsv`,
//! compiled in; extend the file to extend bulletin.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/gazetteer.tsv");

/// A country with its ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    pub code: String,
    pub name: String,
    pub aliases: Vec<String>,
    /// Words that name the country's people or things in running text ("Kazakh").
    pub demonyms: Vec<String>,
}

/// A town or city with the country it lies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub country: String,
    pub name: String,
    pub aliases: Vec<String>,
}

/// The parsed gazetteer with lookup tables keyed by lowercase name.
#[derive(Debug, Default)]
pub struct Gazetteer {
    pub countries: Vec<Country>,
    pub places: Vec<Place>,
    /// lowercase place name or alias → index into `places`
    place_index: HashMap<String, usize>,
    /// lowercase country name, alias or demonym (and place name) → country code
    country_words: HashMap<String, String>,
    /// Names as they are capitalised in running text ("Kazakhstan", "KAZAKHSTAN",
    /// "Nebit Dag") → country code.
    text_words: HashMap<String, String>,
    /// First words of the two-word names ("Nebit" of "Nebit Dag").
    first_words: std::collections::HashSet<String>,
    /// Lines that could not be read; empty for the shipped file (a test checks).
    pub rejected_lines: Vec<usize>,
}

impl Gazetteer {
    /// Reads the tab-separated format of `data/gazetteer.tsv`.
    pub fn parse(text: &str) -> Gazetteer {
        let mut g = Gazetteer::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let list = |i: usize| -> Vec<String> {
                cols.get(i)
                    .map(|c| {
                        c.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            match (cols.first(), cols.get(1), cols.get(2)) {
                (Some(&"country"), Some(code), Some(name))
                    if code.len() == 2 && !name.is_empty() =>
                {
                    g.countries.push(Country {
                        code: code.to_string(),
                        name: name.to_string(),
                        aliases: list(3),
                        demonyms: list(4),
                    })
                }
                (Some(&"place"), Some(code), Some(name)) if code.len() == 2 && !name.is_empty() => {
                    g.places.push(Place {
                        country: code.to_string(),
                        name: name.to_string(),
                        aliases: list(3),
                    })
                }
                _ => g.rejected_lines.push(i + 1),
            }
        }
        for c in &g.countries {
            for word in std::iter::once(&c.name)
                .chain(&c.aliases)
                .chain(&c.demonyms)
            {
                g.country_words.insert(word.to_lowercase(), c.code.clone());
            }
        }
        for (i, p) in g.places.iter().enumerate() {
            for word in std::iter::once(&p.name).chain(&p.aliases) {
                g.place_index.insert(word.to_lowercase(), i);
                g.country_words
                    .insert(word.to_lowercase(), p.country.clone());
            }
        }
        let names: Vec<(String, String)> = g
            .countries
            .iter()
            .flat_map(|c| {
                std::iter::once(&c.name)
                    .chain(&c.aliases)
                    .chain(&c.demonyms)
                    .map(|w| (w.clone(), c.code.clone()))
            })
            .chain(g.places.iter().flat_map(|p| {
                std::iter::once(&p.name)
                    .chain(&p.aliases)
                    .map(|w| (w.clone(), p.country.clone()))
            }))
            .collect();
        for (name, code) in names {
            if let Some((first, _)) = name.split_once(' ') {
                g.first_words.insert(first.to_owned());
                g.first_words.insert(first.to_uppercase());
            }
            g.text_words.insert(name.to_uppercase(), code.clone());
            g.text_words.insert(name, code);
        }
        g
    }

    /// The place called `name` (any case, any alias).
    pub fn place(&self, name: &str) -> Option<&Place> {
        self.place_index
            .get(&name.to_lowercase())
            .map(|&i| &self.places[i])
    }

    /// The country code for a country name, alias, demonym or place (any case).
    pub fn country_code(&self, word: &str) -> Option<&str> {
        self.country_words
            .get(&word.to_lowercase())
            .map(String::as_str)
    }

    /// The country with this ISO code.
    pub fn country(&self, code: &str) -> Option<&Country> {
        self.countries
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(code))
    }
}

/// The compiled-in gazetteer.
pub fn gazetteer() -> &'static Gazetteer {
    static G: OnceLock<Gazetteer> = OnceLock::new();
    G.get_or_init(|| Gazetteer::parse(DATA))
}

/// How a dateline place is shown: `BAKU` → `Baku`, `ALMA-ATA` → `Alma-Ata` (the
/// name as written, not silently modernised), unknown places in title case.
pub fn place_display_name(written: &str) -> String {
    let g = gazetteer();
    if let Some(p) = g.place(written)
        && let Some(alias) = std::iter::once(&p.name)
            .chain(&p.aliases)
            .find(|a| a.eq_ignore_ascii_case(written))
    {
        return alias.clone();
    }
    let mut out = String::with_capacity(written.len());
    let mut start_of_word = true;
    for c in written.chars() {
        if start_of_word {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start_of_word = !c.is_alphanumeric() && c != '\'' && c != '\u{2019}';
    }
    out
}

/// ISO codes of the countries named in `texts` (by name, old name, demonym or one
/// of their places), sorted. A name counts where it stands as a capitalised word
/// ("Kazakhstan’s", "Kazakh-born" and "KAZAKHSTAN" count; "mary" does not).
pub fn countries_in_text<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let g = gazetteer();
    let mut found = BTreeSet::new();
    for text in texts {
        // Only words that start with an ASCII capital can be names (all gazetteer
        // names do), so a byte scan finds the few candidates and only those are
        // looked up. This runs on every imported story.
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_uppercase() || !starts_word(text, i) {
                i += 1;
                continue;
            }
            let end = word_end(bytes, i);
            let word = trim_word(&text[i..end]);
            let mut code = g.text_words.get(word);
            if code.is_none() && g.first_words.contains(word) && bytes.get(end) == Some(&b' ') {
                let second_end = word_end(bytes, end + 1);
                code = g.text_words.get(trim_word(&text[i..second_end]));
            }
            if code.is_none() && word.contains('-') {
                code = word.split('-').find_map(|part| g.text_words.get(part));
            }
            if let Some(code) = code {
                found.insert(code.clone());
            }
            i = end.max(i + 1);
        }
    }
    found.into_iter().collect()
}

/// Whether a word starts at byte `i`: the character before is no letter or digit.
fn starts_word(text: &str, i: usize) -> bool {
    text[..i]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric())
}

/// End of the ASCII word (letters, digits, `-`, `'`) starting at `start`.
fn word_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'\''))
        .map_or(bytes.len(), |n| start + n)
}

/// "Kazakhstan's" → "Kazakhstan"; stray trailing hyphens and quotes go too.
fn trim_word(word: &str) -> &str {
    word.strip_suffix("'s")
        .unwrap_or(word)
        .trim_end_matches(['-', '\''])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_gazetteer_reads_cleanly() {
        let g = gazetteer();
        assert!(g.rejected_lines.is_empty(), "{:?}", g.rejected_lines);
        assert_eq!(g.countries.len(), 8);
        assert_eq!(g.place("ALMA-ATA").map(|p| p.name.as_str()), Some("Almaty"));
        assert_eq!(g.country_code("Kirghizia"), Some("KG"));
        assert_eq!(g.country_code("tiflis"), Some("GE"));
    }

    #[test]
    fn display_names() {
        assert_eq!(place_display_name("BAKU"), "Baku");
        assert_eq!(place_display_name("ALMA-ATA"), "Alma-Ata");
        assert_eq!(place_display_name("NEW PLACE-ON-SEA"), "New Place-On-Sea");
        assert_eq!(place_display_name("Almaty"), "Almaty");
    }

    #[test]
    fn countries_from_text() {
        assert_eq!(
            countries_in_text(["Officials in Kazakhstan and Azerbaijan’s capital Baku"]),
            ["AZ", "KZ"]
        );
        assert_eq!(countries_in_text(["Turkmen exiles in Turkey"]), ["TM"]);
        assert_eq!(
            countries_in_text(["Kazakh-born writer", "in Ust-Kamenogorsk"]),
            ["KZ"]
        );
        assert_eq!(countries_in_text(["from Nebit Dag"]), ["TM"]);
        assert_eq!(
            countries_in_text(["\u{201c}Kazakh\u{201d} and TAJIKISTAN's"]),
            ["KZ", "TJ"]
        );
        assert!(countries_in_text(["Ākazakh", "xKazakh"]).is_empty());
        assert!(countries_in_text(["nothing here, mary"]).is_empty());
    }
}
