//! What each element of an export is to the reader: the root's state, the kinds
//! of open element (and which of them keep their text), and the fields of
//! authors, terms and items.

use super::tracker::Mark;

/// Where the reader stands with respect to the root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Root {
    NotSeen,
    Open,
    Closed,
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Rss,
    Channel,
    SiteTitle,
    SiteLink,
    Author,
    AuthorField(AuthorField),
    Term(TermKind),
    TermField(TermField),
    Item,
    ItemField(ItemField),
    ItemCategory,
    Comment,
    /// Anything else: read past, text ignored.
    Other,
}

impl Kind {
    /// Whether the element's text is kept.
    pub(super) fn captures(self) -> bool {
        matches!(
            self,
            Kind::SiteTitle
                | Kind::SiteLink
                | Kind::AuthorField(_)
                | Kind::TermField(_)
                | Kind::ItemField(_)
                | Kind::ItemCategory
        )
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Kind::Rss => "<rss>",
            Kind::Channel => "<channel>",
            Kind::SiteTitle => "the site's <title>",
            Kind::SiteLink => "the site's <link>",
            Kind::Author | Kind::AuthorField(_) => "<wp:author>",
            Kind::Term(TermKind::Category) => "<wp:category>",
            Kind::Term(TermKind::Tag) => "<wp:tag>",
            Kind::Term(TermKind::Term) => "<wp:term>",
            Kind::TermField(_) => "a field of a category or tag",
            Kind::Item => "<item>",
            Kind::ItemField(ItemField::Content) => "<content:encoded>",
            Kind::ItemField(_) => "a field of an <item>",
            Kind::ItemCategory => "an item's <category>",
            Kind::Comment => "<wp:comment>",
            Kind::Other => "an element",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AuthorField {
    Login,
    DisplayName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TermKind {
    Category,
    Tag,
    Term,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TermField {
    Slug,
    Parent,
    Name,
    Description,
    Taxonomy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemField {
    Title,
    Link,
    Content,
    Excerpt,
    PostId,
    Date,
    DateGmt,
    Name,
    Status,
    Type,
    Password,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Open {
    pub(super) kind: Kind,
    pub(super) mark: Mark,
}

/// The namespace prefixes the root element binds (`wp`, `content`, `excerpt` in
/// every WordPress export, but read from the file rather than assumed).
#[derive(Debug, Default)]
pub(super) struct Prefixes {
    pub(super) wp: Vec<u8>,
    pub(super) content: Vec<u8>,
    pub(super) excerpt: Vec<u8>,
}
