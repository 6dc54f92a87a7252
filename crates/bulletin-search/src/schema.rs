//! The index's fields, its analyzer, and how a story becomes a document.

use bulletin_core::render::{dateline_caps, visible_body};
use bulletin_core::{Access, Date, Story, gazetteer, slugify};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};
use tantivy::{Index, TantivyDocument};

/// Bumped whenever the schema, the analyzer or what a document holds changes: an
/// index of another version is rebuilt from the store.
pub const SCHEMA_VERSION: u32 = 3;

/// The analyzer of every full-text field, and of queries.
pub const ANALYZER: &str = "bulletin";

/// Words, lowercased, diacritics folded ("Öskemen" is "oskemen"), English stems
/// ("detained" is "detain"; "detention" stays "detent").
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(EnglishStems)
        .build()
}

/// Words the English stemmer would turn into a name of the region: "any" stems to
/// "ani", so every "any" would find the Armenian city and name Ani ("many": Mani).
/// They are indexed as they are.
const UNSTEMMED: &[&str] = &["any", "many"];

/// Snowball's English stemmer, except for [`UNSTEMMED`].
#[derive(Clone, Copy)]
struct EnglishStems;

impl TokenFilter for EnglishStems {
    type Tokenizer<T: Tokenizer> = EnglishStemsFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> EnglishStemsFilter<T> {
        EnglishStemsFilter { inner }
    }
}

#[derive(Clone)]
struct EnglishStemsFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for EnglishStemsFilter<T> {
    type TokenStream<'a> = EnglishStemsStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        EnglishStemsStream {
            tail: self.inner.token_stream(text),
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

struct EnglishStemsStream<T> {
    tail: T,
    stemmer: frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for EnglishStemsStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if !UNSTEMMED.contains(&token.text.as_str())
            && let std::borrow::Cow::Owned(stem) = self.stemmer.stem(&token.text)
        {
            token.text = stem;
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// The fields, by handle.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// The story's slug: the document's identity (raw, stored), and the last
    /// key of every order (fast), so ties cannot fall to index layout.
    pub slug: Field,
    /// Full text, stored for snippets and more-like-this.
    pub headline: Field,
    /// The paragraphs a visitor may read (the access rule), stored for snippets.
    pub body: Field,
    /// Dateline places and the names of the story's countries: found, not shown.
    pub meta: Field,
    /// `BAKU/ALMATY/JULY 18 2021`, stored only.
    pub dateline: Field,
    /// Place names as shown, stored only.
    pub place_name: Field,
    /// Tag names: filter (by slug, below) and facet (by name).
    pub tag: Field,
    pub tag_slug: Field,
    /// ISO codes, uppercase: filter and facet.
    pub country: Field,
    /// Slugified place names: filter.
    pub place: Field,
    pub issue: Field,
    /// yyyymmdd of the dateline date: range filter, year facet, display.
    pub day: Field,
    /// "Newest first" as one number: date, then issue, then a hash of the slug,
    /// so that the order is total and the same in any index of the same stories.
    pub newest: Field,
    pub access: Field,
}

pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        slug: b.add_text_field("slug", STRING | STORED | FAST),
        headline: b.add_text_field("headline", text(true)),
        body: b.add_text_field("body", text(true)),
        meta: b.add_text_field("meta", text(false)),
        dateline: b.add_text_field("dateline", STORED),
        place_name: b.add_text_field("place_name", STORED),
        tag: b.add_text_field("tag", STRING | FAST | STORED),
        tag_slug: b.add_text_field("tag_slug", STRING),
        country: b.add_text_field("country", STRING | FAST | STORED),
        place: b.add_text_field("place", STRING),
        issue: b.add_u64_field("issue", INDEXED | FAST | STORED),
        day: b.add_i64_field("day", INDEXED | FAST | STORED),
        newest: b.add_u64_field("newest", FAST),
        access: b.add_text_field("access", STRING | STORED),
    };
    (b.build(), fields)
}

pub fn register_analyzer(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

/// `2021-07-18` as `20210718`.
pub fn day_number(date: Date) -> i64 {
    i64::from(date.year()) * 10_000 + i64::from(date.month()) * 100 + i64::from(date.day())
}

pub fn day_from_number(n: i64) -> Option<Date> {
    let year = i16::try_from(n / 10_000).ok()?;
    let month = i8::try_from(n / 100 % 100).ok()?;
    let day = i8::try_from(n % 100).ok()?;
    Date::new(year, month, day).ok()
}

/// FNV-1a: a hash that is the same in every build and on every machine.
pub fn stable_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Days since 0000-01-01 need 22 bits; issues get 20 (a million); the slug hash
/// the remaining 22 breaks ties.
fn newest_key(story: &Story) -> u64 {
    let d = story.dateline.date;
    let days = u64::try_from(
        i64::from(d.year()).max(0) * 372 + i64::from(d.month()) * 31 + i64::from(d.day()),
    )
    .unwrap_or(0)
    .min((1 << 22) - 1);
    let issue = u64::from(story.issue.map_or(0, |i| i.number)).min((1 << 20) - 1);
    (days << 42) | (issue << 22) | (stable_hash(&story.slug) & ((1 << 22) - 1))
}

/// The document of a story as a visitor may read it: the access rule decides
/// which paragraphs are indexed, so a subscribers-only story is findable only by
/// its headline, dateline and lead, and snippets can never show the rest.
pub fn story_document(f: &Fields, story: &Story) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.slug, &story.slug);
    doc.add_text(f.headline, &story.headline);
    doc.add_text(f.body, visible_body(story, false).join("\n\n"));
    let mut meta = story.dateline.places.join(" ");
    for code in &story.countries {
        if let Some(country) = gazetteer().country(code) {
            meta.push(' ');
            meta.push_str(&country.name);
        }
    }
    doc.add_text(f.meta, &meta);
    doc.add_text(f.dateline, dateline_caps(story, true));
    for place in &story.dateline.places {
        doc.add_text(f.place_name, place);
        doc.add_text(f.place, slugify(place));
    }
    for tag in &story.tags {
        doc.add_text(f.tag, tag);
        doc.add_text(f.tag_slug, slugify(tag));
    }
    for code in &story.countries {
        doc.add_text(f.country, code.to_ascii_uppercase());
    }
    if let Some(issue) = story.issue {
        doc.add_u64(f.issue, u64::from(issue.number));
    }
    doc.add_i64(f.day, day_number(story.dateline.date));
    doc.add_u64(f.newest, newest_key(story));
    doc.add_text(
        f.access,
        match story.access {
            Access::Public => "public",
            Access::Subscribers => "subscribers",
        },
    );
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn analyzer_stems_folds_and_lowercases() {
        assert_eq!(tokens("Detained"), tokens("detain"));
        assert_ne!(tokens("detention"), tokens("detain"));
        assert_eq!(tokens("Öskemen"), vec!["oskemen"]);
        assert_eq!(tokens("Alma-Ata"), vec!["alma", "ata"]);
        // Stemmed words whose stem would be a name are left alone.
        assert_eq!(
            tokens("Any Ani many Mani"),
            vec!["any", "ani", "many", "mani"]
        );
        assert_eq!(tokens("parties party"), vec!["parti", "parti"]);
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = Date::new(2021, 7, 18).unwrap();
        assert_eq!(day_number(d), 20210718);
        assert_eq!(day_from_number(20210718), Some(d));
        assert_eq!(day_from_number(20211318), None);
    }
}
