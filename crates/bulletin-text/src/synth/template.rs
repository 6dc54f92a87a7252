//! Templates: `{slot}`s in the vocabulary's sentences filled from the story's
//! context (see `data/topics.txt` for the slots).

use bulletin_core::Month;

use super::calendar::WEEKDAYS;
use super::story::{Amount, Ctx, Generator};
use super::text::{
    full_name, pct, pick_unused, push_grouped, push_i64, push_pct, push_u64, short_name,
};

impl Generator {
    /// Expand a template into `buf`.
    pub(super) fn expand(&mut self, buf: &mut Vec<u8>, template: &str, cx: &Ctx) {
        let t = template.as_bytes();
        let mut i = 0;
        while i < t.len() {
            let Some(open) = t[i..].iter().position(|&b| b == b'{') else {
                buf.extend_from_slice(&t[i..]);
                return;
            };
            buf.extend_from_slice(&t[i..i + open]);
            let start = i + open + 1;
            let close = t[start..]
                .iter()
                .position(|&b| b == b'}')
                .map_or(t.len(), |k| start + k);
            let mut name = &t[start..close];
            let cap = name.first() == Some(&b'^');
            if cap {
                name = &name[1..];
            }
            let at = buf.len();
            self.slot(buf, name, cx);
            if cap && let Some(b) = buf.get_mut(at) {
                b.make_ascii_uppercase();
            }
            i = close + 1;
        }
    }

    /// Fills the slot `name` (without its braces).
    fn slot(&mut self, buf: &mut Vec<u8>, name: &[u8], cx: &Ctx) {
        let words = self.words;
        let rng = &mut self.rng;
        let s = |buf: &mut Vec<u8>, x: &str| buf.extend_from_slice(x.as_bytes());
        match name {
            b"C" => s(buf, cx.c.name),
            b"A" => s(buf, cx.c.adj),
            b"C2" => s(buf, cx.c2.name),
            b"A2" => s(buf, cx.c2.adj),
            b"T" => s(buf, cx.town),
            b"T2" => s(buf, cx.town2),
            b"T0" => s(buf, cx.c.places[0]),
            b"PA" => {
                s(buf, cx.pa.title);
                buf.push(b' ');
                full_name(buf, &cx.pa);
                self.a_intro = true;
            }
            b"NA" => full_name(buf, &cx.pa),
            b"RA" if !self.a_intro => {
                s(buf, cx.pa.title);
                buf.push(b' ');
                full_name(buf, &cx.pa);
                self.a_intro = true;
            }
            b"RA" => short_name(buf, &cx.pa),
            b"NB" => {
                full_name(buf, &cx.pb);
                self.b_intro = true;
            }
            b"JB" => s(buf, cx.pb.role),
            b"RB" | b"RBe" if !self.b_intro => {
                full_name(buf, &cx.pb);
                s(buf, ", ");
                s(buf, cx.pb.role);
                if name == b"RB" {
                    buf.push(b',');
                }
                self.b_intro = true;
            }
            b"RB" | b"RBe" => short_name(buf, &cx.pb),
            b"K" => s(buf, cx.company),
            b"G" => s(buf, cx.group),
            b"O" => s(buf, cx.topic.bodies[rng.index(cx.topic.bodies.len())]),
            b"himB" => s(buf, if cx.pb.female { "her" } else { "him" }),
            b"cur" => s(buf, cx.c.currency),
            b"n" => push_u64(buf, cx.fixed.n),
            b"b" => push_grouped(buf, cx.fixed.b),
            b"b2" => push_grouped(buf, rng.range(12, 2_500) * 100),
            b"w" => s(buf, words.number_words[cx.fixed.w]),
            b"w2" => s(buf, words.number_words[rng.index(words.number_words.len())]),
            b"p" => push_pct(buf, cx.fixed.p),
            b"p2" => {
                let p = pct(rng);
                push_pct(buf, p);
            }
            b"d" => {
                buf.push(b'$');
                match cx.fixed.d {
                    Amount::Millions(m) => {
                        push_u64(buf, m);
                        buf.push(b'm');
                    }
                    Amount::Billions(a, b) => {
                        push_u64(buf, a);
                        buf.push(b'.');
                        push_u64(buf, b);
                        s(buf, "bn");
                    }
                }
            }
            b"l" => {
                match cx.fixed.l {
                    Amount::Millions(m) => {
                        push_u64(buf, m);
                        s(buf, " million ");
                    }
                    Amount::Billions(a, b) => {
                        push_u64(buf, a);
                        buf.push(b'.');
                        push_u64(buf, b);
                        s(buf, " billion ");
                    }
                }
                s(buf, cx.c.currency);
            }
            b"y" => push_i64(buf, cx.year),
            b"y+" => push_i64(buf, cx.year + 1),
            b"y-" => push_i64(buf, cx.fixed.y_minus),
            b"mo" => s(buf, Month::ALL[cx.fixed.mo].name()),
            b"mo2" => s(buf, Month::ALL[rng.index(12)].name()),
            b"wd" => s(buf, WEEKDAYS[cx.weekday]),
            b"q" => {
                let i = pick_unused(rng, words.quotes.len(), self.used_quotes)
                    .unwrap_or_else(|| rng.index(words.quotes.len()));
                self.used_quotes |= 1 << i;
                s(buf, words.quotes[i]);
            }
            _ => {
                // Unknown slot: write it back verbatim (a bug in a template).
                buf.push(b'{');
                buf.extend_from_slice(name);
                buf.push(b'}');
            }
        }
    }
}
