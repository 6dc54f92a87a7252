//! Post bodies: invented news prose in the four shapes WordPress stores them.

use super::Synth;
use bulletin_core::Month;

use super::words::{ACTIONS, HOLDER, NOUNS, SUBJECTS};

impl Synth {
    /// A sentence of invented news prose.
    fn sentence(&mut self) -> String {
        let noun = self.rng.pick(NOUNS);
        let action = self.rng.pick(ACTIONS);
        let subject = self.rng.pick(SUBJECTS).to_lowercase();
        match self.rng.below(4) {
            0 => format!("The {noun} {action}."),
            1 => format!("According to the {subject}, the {noun} {action}."),
            2 => format!(
                "Local {noun} {action}, while the {subject} said it had received {} letters.",
                10 + self.rng.below(990)
            ),
            _ => format!("Some {noun} {action} &amp; others disagreed."),
        }
    }

    fn paragraph(&mut self) -> String {
        let sentences = 3 + self.rng.below(3);
        (0..sentences)
            .map(|_| self.sentence())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// About 2 KB of body in one of four shapes.
    pub(super) fn body(
        &mut self,
        style: u64,
        place: &str,
        date: jiff::civil::Date,
        n: u64,
    ) -> String {
        let count = 4 + self.rng.below(3);
        let paragraphs: Vec<String> = (0..count).map(|_| self.paragraph()).collect();
        match style {
            // Classic editor: blank lines between paragraphs, inline markup.
            0 => {
                let mut text = paragraphs.join("\n\n");
                text.push_str("\n\n<strong>Read more</strong> on <a href=\"https://bulletin.example/tag/energy/\">energy</a>.");
                text
            }
            // Block editor.
            1 => paragraphs
                .iter()
                .map(|p| format!("<!-- wp:paragraph -->\n<p>{p}</p>\n<!-- /wp:paragraph -->"))
                .collect::<Vec<_>>()
                .join("\n\n"),
            // Bulletin text: dateline, ENDS, footers.
            2 => {
                self.counts.bulletin_bodies += 1;
                let month = Month::of(date).ap_upper();
                let issue = 300 + n / 20;
                let mut out = format!(
                    "<p>{place}/{month} {} {} (The Bulletin) &#8212; {}</p>\n",
                    date.day(),
                    date.year(),
                    paragraphs[0]
                );
                for p in &paragraphs[1..] {
                    out.push_str(&format!("<p>{p}</p>\n"));
                }
                out.push_str(&format!(
                    "<p>ENDS</p>\n<p>&#8212; This story was published in issue {issue} of the {}, on {} {} {}</p>\n<p>&#8212; Copyright the {} {}</p>",
                    HOLDER.replace('&', "&amp;"),
                    Month::of(date).ap(),
                    date.day(),
                    date.year(),
                    HOLDER.replace('&', "&amp;"),
                    date.year()
                ));
                out
            }
            // An image with a caption, then paragraphs.
            _ => {
                let mut out = format!(
                    "[caption id=\"attachment_{n}\" align=\"alignnone\" width=\"600\"]<img src=\"https://bulletin.example/files/{n}.jpg\" alt=\"\" width=\"600\" height=\"400\" /> A view of {}[/caption]\n\n",
                    title_case(place)
                );
                out.push_str(&paragraphs.join("\n\n"));
                out
            }
        }
    }
}

pub(super) fn title_case(word: &str) -> String {
    let lower = word.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
