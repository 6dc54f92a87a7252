//! Property tests: rendering never panics, never lets markup through, and never
//! shows a free reader more than the first paragraph of a subscribers' story.

use bulletin_core::Access;
use bulletin_mail::{Reader, message, render, sender};
use proptest::prelude::*;

use crate::common::{fixture, links};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn render_never_panics_nor_lets_markup_through(
        headline in any::<String>(),
        paragraphs in proptest::collection::vec(any::<String>(), 0..5),
        markup in "(<script>|<SCRIPT src=x>|</td>|&|\"|'|<|>){0,4}",
        credit in any::<String>(),
        places in proptest::collection::vec(any::<String>(), 0..3),
        subscribers in any::<bool>(),
        paid in any::<bool>(),
    ) {
        let mut f = fixture();
        let s = &mut f.stories[0];
        s.headline = format!("{headline}{markup}");
        s.body = paragraphs.iter().map(|p| format!("{markup}{p}{markup}")).collect();
        s.dateline.credit = format!("{credit}{markup}");
        s.dateline.places = places;
        s.tags = vec![format!("{markup}tag")];
        s.access = if subscribers { Access::Subscribers } else { Access::Public };
        let reader = if paid { Reader::Paid } else { Reader::Free };
        let r = render(&f.newsletter(), reader, &links());
        prop_assert!(!r.html.to_ascii_lowercase().contains("<script"));
        prop_assert!(r.html.starts_with("<!DOCTYPE html>"));
        prop_assert_eq!(r.html.matches("</table>").count(), 2);
    }

    #[test]
    fn free_readers_never_see_past_the_first_paragraph(
        paragraphs in proptest::collection::vec(any::<String>(), 1..6),
    ) {
        let mut f = fixture();
        let s = &mut f.stories[1];
        prop_assert_eq!(s.access, Access::Subscribers);
        // A marker per paragraph that arbitrary text around it cannot fake
        // by accident.
        s.body = paragraphs
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{p}\u{2042}withheld-{i}\u{2042}"))
            .collect();
        let free = render(&f.newsletter(), Reader::Free, &links());
        let paid = render(&f.newsletter(), Reader::Paid, &links());
        for i in 0..paragraphs.len() {
            let marker = format!("\u{2042}withheld-{i}\u{2042}");
            let shown = i == 0;
            prop_assert_eq!(free.text.contains(&marker), shown);
            prop_assert_eq!(free.html.contains(&marker), shown);
            prop_assert!(paid.text.contains(&marker));
            prop_assert!(paid.html.contains(&marker));
        }
    }

    #[test]
    fn a_name_either_is_refused_or_stays_one_recipient(name in any::<String>()) {
        let f = fixture();
        let r = render(&f.newsletter(), Reader::Paid, &links());
        let from = sender(Some("The Bulletin"), "news@bulletin.example.org").unwrap();
        let result = message(&r, &from, "reader@example.org", Some(&name), &links(),
                             "newsletter.bulletin.example.org", None);
        let has_break = name.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}');
        match result {
            Err(_) => prop_assert!(has_break),
            Ok(m) => {
                prop_assert!(!has_break);
                prop_assert_eq!(m.envelope().to().len(), 1);
                let raw = String::from_utf8(m.formatted()).unwrap();
                let head = raw.split("\r\n\r\n").next().unwrap();
                // Every header line is a known header or a folded continuation.
                for line in head.split("\r\n") {
                    let known = ["From:", "To:", "Subject:", "Date:", "Message-ID:", "List-Id:",
                                 "List-Unsubscribe:", "List-Unsubscribe-Post:", "MIME-Version:",
                                 "Content-Type:"];
                    prop_assert!(line.starts_with(' ') || line.starts_with('\t')
                                 || known.iter().any(|k| line.starts_with(k)), "{}", line);
                }
            }
        }
    }
}
