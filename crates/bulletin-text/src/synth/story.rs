//! One story after another: issues and their dates, the people in a story, and the
//! story itself (headline, dateline, paragraphs, footers, tags).

use super::GenOptions;
use bulletin_core::Month;

use super::calendar::{civil_from_days, days_from_civil};
use super::rates::*;
use super::rng::Rng;
use super::text::{amount, mistype, pct, pick_town, pick_unused, push_i64, push_u64, push_upper};
use super::vocabulary::{Country, Topic, Vocabulary, vocabulary};

const PUBLICATION: &[u8] = b"Central Asia & South Caucasus Bulletin";
const CREDIT: &[u8] = b"(The Bulletin)";
const NBSP: &[u8] = "\u{a0}".as_bytes();

#[derive(Debug, Clone, Copy)]
pub(super) struct Issue {
    /// The number printed on the issue line (a typo for one issue in a thousand).
    printed: u64,
    /// Days since 1970-01-01.
    pub(super) date: i64,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Person {
    pub(super) first: &'static str,
    pub(super) surname: &'static str,
    pub(super) female: bool,
    pub(super) title: &'static str,
    pub(super) role: &'static str,
}

/// An amount of money: `N million`/`$Nm` or `N.N billion`/`$N.Nbn`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Amount {
    Millions(u64),
    Billions(u64, u64),
}

/// A percentage: `12%` or `12.4%`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pct(pub(super) u64, pub(super) Option<u64>);

/// Values fixed for one story, so that the headline and the text agree.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fixed {
    pub(super) n: u64,
    pub(super) b: u64,
    pub(super) w: usize,
    pub(super) p: Pct,
    pub(super) d: Amount,
    pub(super) l: Amount,
    pub(super) mo: usize,
    pub(super) y_minus: i64,
}

/// What a story's templates are filled from.
pub(super) struct Ctx {
    pub(super) topic: &'static Topic,
    pub(super) fixed: Fixed,
    pub(super) c: &'static Country,
    pub(super) c2: &'static Country,
    pub(super) town: &'static str,
    pub(super) town2: &'static str,
    pub(super) pa: Person,
    pub(super) pb: Person,
    pub(super) company: &'static str,
    pub(super) group: &'static str,
    pub(super) year: i64,
    pub(super) weekday: usize,
}

/// The generator's state from story to story.
pub(super) struct Generator {
    pub(super) rng: Rng,
    pub(super) words: &'static Vocabulary,
    /// Stories per issue: `per_issue..=4 * per_issue`.
    per_issue_lo: u64,
    issue_index: u64,
    typo_index: u64,
    issue_date: i64,
    header_tag: Option<String>,
    /// Quotations already used in the current story.
    pub(super) used_quotes: u64,
    /// Whether the story's two people have been introduced by full name yet.
    pub(super) a_intro: bool,
    pub(super) b_intro: bool,
}

/// The range of stories per issue for a run of `stories`: 3–12, scaled up for very
/// large runs so that the whole run spans at most ~1,400 years on average (and never
/// reaches year 9999: at most 250,000 / 3 + 1 issues of at most 17 days each).
pub(super) fn stories_per_issue(stories: u64) -> (u64, u64) {
    let k = stories.div_ceil(250_000).max(1);
    (3 * k, 12 * k)
}

impl Generator {
    pub(super) fn new(options: &GenOptions) -> Self {
        let mut rng = Rng::new(options.seed);
        let start = days_from_civil(1995, 1, 2) + rng.below(14) as i64;
        let typo_index = rng.below(TYPO_BLOCK / 2);
        let (lo, _) = stories_per_issue(options.stories);
        Generator {
            rng,
            words: vocabulary(),
            per_issue_lo: lo,
            issue_index: 0,
            typo_index,
            // The first issue is `start`: next_issue adds the interval.
            issue_date: start - 14,
            header_tag: options.header_tag.clone(),
            used_quotes: 0,
            a_intro: false,
            b_intro: false,
        }
    }

    pub(super) fn stories_in_issue(&mut self) -> u64 {
        let lo = self.per_issue_lo;
        self.rng.range(lo, 4 * lo)
    }

    pub(super) fn next_issue(&mut self) -> Issue {
        let index = self.issue_index;
        self.issue_index += 1;
        self.issue_date += if index == 0 {
            14
        } else {
            self.rng.range(14, 17) as i64
        };
        let number = index + 1;
        let mut printed = number;
        if index == self.typo_index {
            printed = mistype(number, &mut self.rng);
        }
        if index % TYPO_BLOCK == TYPO_BLOCK - 1 {
            // Schedule the typo of the next block.
            self.typo_index = index + 1 + self.rng.below(TYPO_BLOCK / 2);
        }
        Issue {
            printed,
            date: self.issue_date,
        }
    }

    fn person(&mut self, c: &'static Country, titles: &'static [&'static str]) -> Person {
        let roles = &self.words.roles;
        let female = self.rng.chance(3500);
        let first = if female {
            c.female[self.rng.index(c.female.len())]
        } else {
            c.male[self.rng.index(c.male.len())]
        };
        Person {
            first,
            surname: c.surnames[self.rng.index(c.surnames.len())],
            female,
            title: titles[self.rng.index(titles.len())],
            role: roles[self.rng.index(roles.len())],
        }
    }

    pub(super) fn story(&mut self, buf: &mut Vec<u8>, eol: &[u8], issue: &Issue, date: i64) {
        let words = self.words;
        let (year, month, day) = civil_from_days(date);
        let rng = &mut self.rng;
        let topic = &words.topics[rng.index(words.topics.len())];
        let ci = rng.index(words.countries.len());
        let mut ci2 = rng.index(words.countries.len() - 1);
        if ci2 >= ci {
            ci2 += 1;
        }
        let c = &words.countries[ci];
        let c2 = &words.countries[ci2];
        let t1 = pick_town(rng, c);
        let mut t2 = rng.index(c.places.len());
        if t2 == t1 && c.places.len() > 1 {
            t2 = (t2 + 1) % c.places.len();
        }
        let company = topic.companies[rng.index(topic.companies.len())];
        let group = words.groups[rng.index(words.groups.len())];
        let pa = self.person(c, &topic.titles);
        let mut pb = self.person(c, &topic.titles);
        while pb.surname == pa.surname {
            pb.surname = c.surnames[self.rng.index(c.surnames.len())];
        }
        let rng = &mut self.rng;
        let fixed = Fixed {
            n: rng.range(3, 480),
            b: rng.range(12, 2_500) * 100,
            w: rng.index(words.number_words.len()),
            p: pct(rng),
            d: amount(rng, 7000, 950),
            l: amount(rng, 6000, 900),
            mo: rng.index(12),
            y_minus: year - rng.range(2, 9) as i64,
        };
        let cx = Ctx {
            topic,
            fixed,
            c,
            c2,
            town: c.places[t1],
            town2: c.places[t2],
            pa,
            pb,
            company,
            group,
            year,
            weekday: (date + 3).rem_euclid(7) as usize,
        };

        // Headline.
        let (headline, lead) = topic.events[self.rng.index(topic.events.len())];
        self.expand(buf, headline, &cx);
        if self.rng.chance(R_HEADLINE_TAIL) {
            let has_town = headline.contains("{T");
            let tail = loop {
                let t = words.headline_tails[self.rng.index(words.headline_tails.len())];
                if !(has_town && t.contains("{T")) {
                    break t;
                }
            };
            self.expand(buf, tail, &cx);
        }
        self.a_intro = false;
        self.b_intro = false;
        buf.extend_from_slice(eol);
        buf.extend_from_slice(eol);

        // Dateline: places, date, credit, dash.
        let rng = &mut self.rng;
        let nplaces = rng.weighted(&[50, 36, 11, 3]);
        let mut used = [usize::MAX; 3];
        for i in 0..nplaces {
            let (cidx, idx) = if i == 0 {
                (ci, t1)
            } else if rng.chance(3000) {
                (ci2, pick_town(rng, c2))
            } else {
                (ci, rng.index(c.places.len()))
            };
            let key = cidx * 64 + idx;
            if used.contains(&key) {
                continue;
            }
            used[i] = key;
            let country = &words.countries[cidx];
            let old = country.old.iter().find(|(j, _)| *j == idx).map(|(_, s)| *s);
            match old {
                Some(o) if rng.chance(R_OLD_SPELLING) => buf.extend_from_slice(o.as_bytes()),
                _ => push_upper(buf, country.places[idx]),
            }
            buf.push(b'/');
        }
        push_upper(buf, Month::ALL[month as usize - 1].ap());
        buf.push(b' ');
        push_u64(buf, u64::from(day));
        let (_, issue_month, _) = civil_from_days(issue.date);
        let no_year_rate = if month == 12 && issue_month == 1 {
            R_NO_YEAR_DEC_IN_JAN
        } else {
            R_NO_YEAR
        };
        if !rng.chance(no_year_rate) {
            buf.push(b' ');
            push_i64(buf, year);
        }
        let x = rng.below(10_000);
        if x < R_NBSP_DATE_SPACE {
            buf.extend_from_slice(NBSP);
            buf.push(b' ');
        } else if x < R_NBSP_DATE_SPACE + R_NBSP_DATE {
            buf.extend_from_slice(NBSP);
        } else {
            buf.push(b' ');
        }
        buf.extend_from_slice(CREDIT);
        let x = rng.below(10_000);
        if x < R_EN_DASH {
            buf.extend_from_slice(" –".as_bytes());
        } else if x < R_EN_DASH + R_NBSP_DASH {
            buf.extend_from_slice(" —\u{a0} ".as_bytes());
        } else {
            buf.extend_from_slice(" — ".as_bytes());
        }

        // Body.
        let paragraphs = 1 + self.rng.weighted(&[40, 15, 15, 10, 8, 6, 3, 3]);
        let mut used = [0u64; 3];
        self.used_quotes = 0;
        for p in 0..paragraphs {
            if p > 0 {
                buf.extend_from_slice(eol);
                buf.extend_from_slice(eol);
            }
            let sentences = if p == 0 {
                1 + self.rng.weighted(&[45, 40, 15])
            } else {
                1 + self.rng.weighted(&[35, 35, 20, 10])
            };
            for s in 0..sentences {
                if s > 0 {
                    if self.rng.chance(R_NBSP_SENTENCE) {
                        buf.extend_from_slice(NBSP);
                    }
                    buf.push(b' ');
                }
                let template = if p == 0 && s == 0 {
                    lead
                } else {
                    // Topic sentences, general sentences, quotations; no repeats.
                    let pools: [&[&str]; 3] = [&topic.follows, &words.general, &words.quote_frames];
                    let kind = if p == 0 {
                        self.rng.weighted(&[75, 25, 0])
                    } else {
                        self.rng.weighted(&[45, 30, 25])
                    };
                    let mut chosen = None;
                    for k in [kind, 1, 0, 2] {
                        if let Some(i) = pick_unused(&mut self.rng, pools[k].len(), used[k]) {
                            chosen = Some((k, i));
                            break;
                        }
                    }
                    let (k, i) = chosen.unwrap_or((1, self.rng.index(words.general.len())));
                    used[k] |= 1 << i;
                    pools[k][i]
                };
                self.expand(buf, template, &cx);
            }
            let x = self.rng.below(10_000);
            if x < R_TRAIL_NBSP {
                buf.extend_from_slice(NBSP);
            } else if x < R_TRAIL_NBSP + R_TRAIL_SPACE {
                buf.push(b' ');
            }
        }
        buf.extend_from_slice(eol);
        buf.extend_from_slice(eol);

        // Footers.
        let rng = &mut self.rng;
        if rng.chance(R_DASH_ENDS) {
            buf.extend_from_slice("— ENDS".as_bytes());
        } else {
            buf.extend_from_slice(b"ENDS");
        }
        buf.extend_from_slice(eol);
        buf.extend_from_slice(eol);
        buf.extend_from_slice("— This story was ".as_bytes());
        if rng.chance(R_FIRST) {
            buf.extend_from_slice(b"first ");
        }
        buf.extend_from_slice(b"published in issue ");
        push_u64(buf, issue.printed);
        buf.extend_from_slice(b" of the ");
        buf.extend_from_slice(PUBLICATION);
        if !rng.chance(R_NO_ISSUE_DATE) {
            if rng.chance(R_PUBLISHED_ON) {
                buf.extend_from_slice(b", published on ");
            } else {
                buf.extend_from_slice(b", on ");
            }
            let (iy, im, id) = civil_from_days(issue.date);
            buf.extend_from_slice(Month::ALL[im as usize - 1].ap().as_bytes());
            buf.push(b' ');
            push_u64(buf, u64::from(id));
            buf.push(b' ');
            push_i64(buf, iy);
            if rng.chance(R_FULL_STOP) {
                buf.push(b'.');
            }
        }
        buf.extend_from_slice(eol);
        buf.extend_from_slice(eol);
        buf.extend_from_slice("— Copyright the ".as_bytes());
        buf.extend_from_slice(PUBLICATION);
        buf.push(b' ');
        push_i64(buf, year);
        buf.extend_from_slice(eol);

        if !rng.chance(R_NO_TAGS) {
            let n = 1 + rng.weighted(&[50, 33, 17]);
            let mut tags = [usize::MAX; 3];
            let mut count = 0;
            for i in 0..n {
                let t = if i < topic.tags.len() && rng.chance(8000) {
                    topic.tags[i]
                } else {
                    rng.index(words.tags.len())
                };
                if !tags[..count].contains(&t) {
                    tags[count] = t;
                    count += 1;
                }
            }
            buf.extend_from_slice(eol);
            buf.extend_from_slice("— Tags: ".as_bytes());
            let mut first = true;
            if let Some(h) = &self.header_tag {
                buf.extend_from_slice(h.as_bytes());
                first = false;
            }
            for &t in &tags[..count] {
                if self.header_tag.as_deref() == Some(words.tags[t]) {
                    continue;
                }
                if !first {
                    buf.extend_from_slice(b", ");
                }
                first = false;
                buf.extend_from_slice(words.tags[t].as_bytes());
            }
            buf.extend_from_slice(eol);
        }
    }
}
