//! A deterministic generator of realistic bulletin text, for demos, tests and
//! benchmarks (`bulletin gen --stories N [--seed S]`).
//!
//! The output follows the bulletin text format of DESIGN.md, oldest issue first so
//! that issue numbers increase through the file:
//!
//! ```text
//! HEADLINE
//!
//! PLACE/MONTH DAY YEAR (The Bulletin) — FIRST PARAGRAPH
//!
//! PARAGRAPH
//!
//! ENDS
//!
//! — This story was published in issue N of the Central Asia & South Caucasus Bulletin, on July 22 2021
//!
//! — Copyright the Central Asia & South Caucasus Bulletin 2021
//!
//! — Tags: political rights, elections
//! ```
//!
//! and sprinkles in, at low rates, every real-world variation the reader has to
//! accept: en dashes without a following space, non-breaking spaces after the date
//! and after the dash, trailing spaces and NBSPs, datelines without a year (including
//! December stories in January issues), `— ENDS`, `first published`, issue lines
//! without a date, `, published on DATE`, a trailing full stop, and (one issue in a
//! thousand) an issue number with a dropped digit that a linter should flag.
//!
//! The text is invented from templates; the same options and seed always give the same
//! bytes. Only `std` is used (a splitmix64 PRNG, proleptic Gregorian day arithmetic).

use std::io::{self, Write};

/// Options for [`generate`].
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub stories: u64,
    pub seed: u64,
    /// Write CRLF line ends (as files from Windows editors have).
    pub crlf: bool,
    /// Start with a UTF-8 BOM.
    pub bom: bool,
    /// Write a `Tag Archives: TAG` header line first.
    pub header_tag: Option<String>,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            stories: 100,
            seed: 0,
            crlf: false,
            bom: false,
            header_tag: None,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenStats {
    pub stories: u64,
    pub issues: u64,
    pub bytes: u64,
}

/// Write `options.stories` synthetic stories to `out`.
///
/// Output is buffered internally (in chunks of about 64 KiB), so `out` need not be a
/// `BufWriter`. Same options ⇒ byte-identical output.
pub fn generate<W: Write>(options: &GenOptions, mut out: W) -> io::Result<GenStats> {
    let mut g = Generator::new(options);
    let mut stats = GenStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 16 * 1024);
    let eol: &[u8] = if options.crlf { b"\r\n" } else { b"\n" };

    if options.bom {
        buf.extend_from_slice("\u{feff}".as_bytes());
    }
    if let Some(tag) = &options.header_tag {
        buf.extend_from_slice(b"Tag Archives: ");
        buf.extend_from_slice(tag.as_bytes());
        buf.extend_from_slice(eol);
        buf.extend_from_slice(eol);
    }

    let mut offsets: Vec<u32> = Vec::new();
    while stats.stories < options.stories {
        let issue = g.next_issue();
        let remaining = options.stories - stats.stories;
        let n = g.stories_in_issue().min(remaining) as usize;
        stats.issues += 1;
        // Story dates: on or up to 14 days before the issue date, oldest first.
        offsets.clear();
        for _ in 0..n {
            offsets.push(g.rng.below(MAX_STORY_AGE_DAYS + 1) as u32);
        }
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        for &off in &offsets {
            if stats.stories > 0 {
                buf.extend_from_slice(eol);
            }
            g.story(&mut buf, eol, &issue, issue.date - i64::from(off));
            stats.stories += 1;
            if buf.len() >= CHUNK {
                out.write_all(&buf)?;
                stats.bytes += buf.len() as u64;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)?;
    stats.bytes += buf.len() as u64;
    out.flush()?;
    Ok(stats)
}

const CHUNK: usize = 64 * 1024;
const MAX_STORY_AGE_DAYS: u64 = 14;
const PUBLICATION: &[u8] = b"Central Asia & South Caucasus Bulletin";
const CREDIT: &[u8] = b"(The Bulletin)";
const NBSP: &[u8] = "\u{a0}".as_bytes();

// ---------------------------------------------------------------------------
// Rates of the variations, per 10,000 (per story unless said otherwise).

/// Dash after the credit: `–Text` (en dash, no space).
const R_EN_DASH: u64 = 350;
/// Dash after the credit: `—\u{a0} Text`.
const R_NBSP_DASH: u64 = 350;
/// `2021\u{a0} (The Bulletin)` (as in the corpus).
const R_NBSP_DATE_SPACE: u64 = 250;
/// `2021\u{a0}(The Bulletin)`.
const R_NBSP_DATE: u64 = 60;
/// Per paragraph line: trailing NBSP.
const R_TRAIL_NBSP: u64 = 300;
/// Per paragraph line: trailing space.
const R_TRAIL_SPACE: u64 = 200;
/// Per sentence break: `.\u{a0} Next` instead of `. Next`.
const R_NBSP_SENTENCE: u64 = 50;
/// Dateline without a year.
const R_NO_YEAR: u64 = 400;
/// Dateline without a year when a December story sits in a January issue.
const R_NO_YEAR_DEC_IN_JAN: u64 = 2500;
/// `— ENDS` instead of `ENDS`.
const R_DASH_ENDS: u64 = 400;
/// `first published`.
const R_FIRST: u64 = 500;
/// Issue line with no date at all.
const R_NO_ISSUE_DATE: u64 = 100;
/// `, published on DATE` instead of `, on DATE`.
const R_PUBLISHED_ON: u64 = 300;
/// Trailing full stop after the issue line's date.
const R_FULL_STOP: u64 = 300;
/// Headlines with an ending such as `, officials say` or `, Baku says`.
const R_HEADLINE_TAIL: u64 = 5000;
/// Stories without a `— Tags:` line.
const R_NO_TAGS: u64 = 1000;
/// A dateline place written in an old spelling (`ALMA-ATA`), per place that has one.
const R_OLD_SPELLING: u64 = 300;
/// One issue in every `TYPO_BLOCK` issues carries a mistyped number (placed in the
/// first half of each block, so the first one always appears early in a file).
const TYPO_BLOCK: u64 = 1000;

// ---------------------------------------------------------------------------
// PRNG: splitmix64.

#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut r = Rng(seed ^ 0x6a09_e667_f3bc_c908);
        r.next_u64();
        r
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_10k / 10,000`.
    #[inline]
    fn chance(&mut self, per_10k: u64) -> bool {
        self.below(10_000) < per_10k
    }

    #[inline]
    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < u64::from(w) {
                return i;
            }
            x -= u64::from(w);
        }
        weights.len() - 1
    }
}

// ---------------------------------------------------------------------------
// Dates (proleptic Gregorian, days since 1970-01-01).

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

const DATELINE_MONTHS: [&str; 12] = [
    "JAN.", "FEB.", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUG.", "SEPT.", "OCT.", "NOV.",
    "DEC.",
];
const ISSUE_MONTHS: [&str; 12] = [
    "Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.",
    "Dec.",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

// ---------------------------------------------------------------------------
// Vocabulary. Everything below is invented for this generator.

struct Country {
    name: &'static str,
    adj: &'static str,
    currency: &'static str,
    /// Dateline places (gazetteer names); the first is the capital.
    places: &'static [&'static str],
    /// Old spellings used now and then in datelines: (index into `places`, SPELLING).
    old: &'static [(usize, &'static str)],
    male: &'static [&'static str],
    female: &'static [&'static str],
    /// Surnames in their male form; `-ov`/`-ev`/`-in` take an `a` for women.
    surnames: &'static [&'static str],
}

static COUNTRIES: [Country; 8] = [
    Country {
        name: "Kazakhstan",
        adj: "Kazakh",
        currency: "tenge",
        places: &[
            "Almaty",
            "Astana",
            "Shymkent",
            "Karaganda",
            "Aktau",
            "Atyrau",
            "Aktobe",
            "Pavlodar",
            "Semey",
            "Taraz",
            "Zhanaozen",
            "Kyzylorda",
            "Oral",
        ],
        old: &[
            (0, "ALMA-ATA"),
            (1, "NUR-SULTAN"),
            (1, "AKMOLA"),
            (2, "CHIMKENT"),
        ],
        male: &[
            "Yerlan", "Nurlan", "Aidos", "Daulet", "Serik", "Marat", "Azamat", "Yerzhan", "Arman",
        ],
        female: &[
            "Aigerim", "Saule", "Dana", "Madina", "Gulnara", "Zhanar", "Aliya", "Dinara",
        ],
        surnames: &[
            "Sarsenbayev",
            "Zhaksylykov",
            "Tokhtarov",
            "Abenov",
            "Kaliyev",
            "Ospanov",
            "Mukanov",
            "Baimukhanov",
            "Yessenov",
            "Kuanyshev",
            "Temirkhanov",
            "Zhunusov",
        ],
    },
    Country {
        name: "Kyrgyzstan",
        adj: "Kyrgyz",
        currency: "soms",
        places: &[
            "Bishkek",
            "Osh",
            "Jalal-Abad",
            "Karakol",
            "Naryn",
            "Batken",
            "Talas",
        ],
        old: &[(0, "FRUNZE")],
        male: &[
            "Azamat", "Bakyt", "Kanybek", "Nurbek", "Temir", "Ulan", "Almaz", "Emil",
        ],
        female: &["Aida", "Cholpon", "Nazira", "Gulzat", "Aizada", "Begimai"],
        surnames: &[
            "Toktogulov",
            "Asanov",
            "Zhumabekov",
            "Mamytov",
            "Sadykov",
            "Kasymaliyev",
            "Osmonov",
            "Abdrakhmanov",
            "Beishenaliyev",
            "Tursunbekov",
        ],
    },
    Country {
        name: "Tajikistan",
        adj: "Tajik",
        currency: "somoni",
        places: &["Dushanbe", "Khujand", "Kulob", "Bokhtar", "Khorog"],
        old: &[(1, "LENINABAD")],
        male: &[
            "Rustam",
            "Farhod",
            "Davlat",
            "Jamshed",
            "Bakhtiyor",
            "Firdavs",
            "Sherali",
            "Umed",
        ],
        female: &[
            "Nigina",
            "Mehrangez",
            "Zarina",
            "Dilnoza",
            "Firuza",
            "Shahnoza",
        ],
        surnames: &[
            "Rahimov",
            "Nazarov",
            "Saidov",
            "Karimzoda",
            "Hakimov",
            "Sharipov",
            "Boboev",
            "Kurbonzoda",
            "Davlatov",
            "Safarzoda",
        ],
    },
    Country {
        name: "Turkmenistan",
        adj: "Turkmen",
        currency: "manats",
        places: &[
            "Ashgabat",
            "Turkmenabat",
            "Dashoguz",
            "Mary",
            "Balkanabat",
            "Turkmenbashi",
        ],
        old: &[(0, "ASHKHABAD"), (5, "KRASNOVODSK")],
        male: &[
            "Myrat", "Serdar", "Dovlet", "Gurban", "Batyr", "Merdan", "Begench",
        ],
        female: &["Ogulgerek", "Maya", "Jemal", "Aylar", "Selbi", "Bahar"],
        surnames: &[
            "Orazov",
            "Atayev",
            "Annayev",
            "Gurbanov",
            "Hojayev",
            "Rejepov",
            "Durdyyev",
            "Babaniyazov",
        ],
    },
    Country {
        name: "Uzbekistan",
        adj: "Uzbek",
        currency: "sums",
        places: &[
            "Tashkent",
            "Samarkand",
            "Bukhara",
            "Namangan",
            "Andijan",
            "Fergana",
            "Nukus",
            "Karshi",
            "Termez",
        ],
        old: &[(4, "ANDIZHAN")],
        male: &[
            "Jasur", "Sardor", "Otabek", "Bobur", "Sherzod", "Ulugbek", "Akmal", "Dilshod",
        ],
        female: &["Nodira", "Malika", "Gulnoza", "Kamola", "Dildora", "Mohira"],
        surnames: &[
            "Yusupov",
            "Tursunov",
            "Rakhimov",
            "Ergashev",
            "Khodjayev",
            "Mirzayev",
            "Ismoilov",
            "Nematov",
            "Sultonov",
            "Abdullayev",
        ],
    },
    Country {
        name: "Azerbaijan",
        adj: "Azerbaijani",
        currency: "manats",
        places: &[
            "Baku",
            "Ganja",
            "Sumgait",
            "Lankaran",
            "Nakhchivan",
            "Mingachevir",
        ],
        old: &[(1, "KIROVABAD")],
        male: &[
            "Elnur", "Rashad", "Tural", "Vugar", "Anar", "Ilgar", "Farid", "Emin",
        ],
        female: &["Leyla", "Aytan", "Gunel", "Nigar", "Sevinj", "Aynur"],
        surnames: &[
            "Mammadli", "Huseynov", "Gasimov", "Rzayev", "Jafarov", "Babayev", "Guliyev",
            "Hasanli", "Novruzov", "Agayev",
        ],
    },
    Country {
        name: "Armenia",
        adj: "Armenian",
        currency: "drams",
        places: &["Yerevan", "Gyumri", "Vanadzor"],
        old: &[(1, "LENINAKAN")],
        male: &[
            "Aram", "Tigran", "Davit", "Hayk", "Armen", "Levon", "Gor", "Vahe",
        ],
        female: &["Ani", "Lilit", "Nare", "Anahit", "Mariam", "Gayane"],
        surnames: &[
            "Hakobyan",
            "Petrosyan",
            "Grigoryan",
            "Avetisyan",
            "Melkonyan",
            "Ghazaryan",
            "Harutyunyan",
            "Vardanyan",
            "Khachatryan",
        ],
    },
    Country {
        name: "Georgia",
        adj: "Georgian",
        currency: "lari",
        places: &["Tbilisi", "Batumi", "Kutaisi", "Rustavi", "Zugdidi", "Gori"],
        old: &[(0, "TIFLIS"), (1, "BATUM")],
        male: &[
            "Giorgi", "Levan", "Nika", "Irakli", "Davit", "Zurab", "Lasha", "Tornike",
        ],
        female: &["Nino", "Tamar", "Ana", "Mariam", "Salome", "Ketevan"],
        surnames: &[
            "Beridze",
            "Kapanadze",
            "Lomidze",
            "Gelashvili",
            "Tsiklauri",
            "Jorjadze",
            "Mchedlishvili",
            "Chkhaidze",
            "Kvaratskhelia",
        ],
    },
];

static TAGS: [&str; 20] = [
    "political rights", // 0
    "media freedom",    // 1
    "elections",        // 2
    "energy",           // 3
    "oil and gas",      // 4
    "human rights",     // 5
    "corruption",       // 6
    "courts",           // 7
    "protests",         // 8
    "economy",          // 9
    "security",         // 10
    "migration",        // 11
    "environment",      // 12
    "religion",         // 13
    "diplomacy",        // 14
    "labour",           // 15
    "agriculture",      // 16
    "water",            // 17
    "transport",        // 18
    "mining",           // 19
];

/// Invented companies, by trade.
static ENERGY_COMPANIES: [&str; 6] = [
    "Kura Energy",
    "Pamir Hydro",
    "Caspian Offshore Drilling",
    "Mtkvari Power",
    "Issyk Energy Systems",
    "Absheron Gas Services",
];
static MINING_COMPANIES: [&str; 4] = [
    "Steppe Copper",
    "Altyn Tau Gold",
    "Zarafshan Metals",
    "Karatau Coal",
];
static OTHER_COMPANIES: [&str; 8] = [
    "Karavan Logistics",
    "Tengri Cement",
    "Sogd Textiles",
    "Amu Agro Holdings",
    "Kolkhida Shipping",
    "Ararat Valley Telecom",
    "Silk Route Rail",
    "Steppe Copper",
];

/// Invented watchdogs and monitors.
static GROUPS: [&str; 10] = [
    "the Caspian Rights Initiative",
    "Open Steppe Watch",
    "the Silk Road Press Centre",
    "the Regional Election Monitoring Network",
    "the Mountain Justice Project",
    "the Independent Lawyers’ Forum",
    "Transparency Caucasus",
    "the Central Asian Media Defence Fund",
    "the Civic Solidarity Council",
    "the Bureau for Fair Trials",
];

/// Roles for the second person, with the article.
static ROLES: [&str; 12] = [
    "a rights lawyer",
    "an opposition politician",
    "a local journalist",
    "an independent economist",
    "a blogger",
    "a civic activist",
    "a former diplomat",
    "a political analyst",
    "a trade union leader",
    "a university lecturer",
    "an energy analyst",
    "a community leader",
];

static NUMBER_WORDS: [&str; 11] = [
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
];

struct Topic {
    tags: &'static [usize],
    /// Titles of the official in the story ({PA}).
    titles: &'static [&'static str],
    /// Companies in the news ({K}).
    companies: &'static [&'static str],
    /// Government bodies that comment ({O}).
    bodies: &'static [&'static str],
    /// (headline, lead sentence) pairs about the same event.
    events: &'static [(&'static str, &'static str)],
    follows: &'static [&'static str],
}

// Template slots. {C} {A}: the story's country and its adjective; {C2} {A2}: a second
// country; {T} {T2}: towns of the first country, {T0} its capital; {PA}: an official with title; {NA}
// their full name; {RA} Mr/Ms surname (title and full name at first mention); {NB}
// {JB}: a second person and their role; {RB} `Full Name, role,` at first mention and
// then Mr/Ms surname ({RBe}: without the trailing comma); {himB} their pronoun; {K} company; {G} watchdog; {O} government body.
// Numbers fixed for the whole story (so headline and text agree): {n} count, {b} large
// count, {w} number word, {p} percentage, {d} dollars, {l} local currency, {mo} month,
// {y-} an earlier year; drawn afresh at each use: {w2} {p2} {b2} {mo2}. {y} {y+}: the
// dateline's year and the next; {wd} the dateline's weekday; {cur} the currency; {q}
// a quotation. `^` capitalises the first letter: {^O}.
static TOPICS: [Topic; 11] = [
    Topic {
        tags: &[2, 0, 10],
        titles: &[
            "Prime Minister",
            "Deputy Prime Minister",
            "Justice Minister",
        ],
        companies: &OTHER_COMPANIES,
        bodies: &[
            "the central election commission",
            "the presidential administration",
            "the ruling party",
        ],
        events: &[
            (
                "{A} election officials bar {w} opposition candidates from ballot",
                "{A} election officials refused to register {w} opposition candidates for the {mo} parliamentary vote, saying their nomination papers contained errors.",
            ),
            (
                "{A} voters elect new parliament as turnout falls to {p}",
                "Voters in {C} went to the polls on {wd} in a parliamentary election that the main opposition parties had urged their supporters to ignore, and turnout fell to {p}.",
            ),
            (
                "Turnout slumps to {p} in {A} municipal elections",
                "The central election commission in {C} said turnout in local council elections was {p}, the lowest figure since independence.",
            ),
            (
                "{A} president sets early election for {mo}",
                "{PA} announced that an early presidential election would be held in {mo}, more than a year ahead of schedule.",
            ),
            (
                "{A} ruling party claims {p} as rivals allege ballot stuffing",
                "The governing party in {C} won {p} of the vote and a comfortable majority in the new parliament, according to preliminary results published on {wd}.",
            ),
            (
                "{T} mayor re-elected with {p} of the vote",
                "The mayor of {T} won a second term with {p} of the vote, official results showed, in a race that his main rival called deeply flawed.",
            ),
            (
                "{A} lawmakers back longer presidential term ahead of {mo} referendum",
                "Members of parliament in {C} voted for constitutional amendments that would extend the presidential term from five years to seven, and set a referendum on the changes for {mo}.",
            ),
            (
                "{^w} opposition parties in {C} to boycott “stage-managed” poll",
                "An alliance of {w} opposition parties in {C} said it would not take part in the {mo} election, which it called a formality with a known outcome.",
            ),
            (
                "{C}’s election commission turns down {w} candidates’ recount demand",
                "The central election commission of {C} rejected a request from {w} losing candidates for a recount of votes cast in {T}.",
            ),
        ],
        follows: &[
            "Independent monitors said they had recorded cases of carousel voting and ballot stuffing at polling stations in {T} and {T2}.",
            "The commission has {w2} weeks to publish final results.",
            "Opposition leaders said the count had been neither transparent nor fair and promised to challenge the results in court.",
            "Under the amended constitution, the president may serve two consecutive seven-year terms.",
            "Several would-be candidates said they had been questioned by police after collecting signatures.",
            "Observers from {G} said the campaign had offered voters little genuine choice.",
            "No party openly critical of the government has held a seat in parliament since {y-}.",
            "Turnout was highest in rural districts and lowest in {T}, the commission said.",
        ],
    },
    Topic {
        tags: &[7, 5, 0],
        titles: &[
            "Justice Minister",
            "Prosecutor-General",
            "Interior Minister",
        ],
        companies: &OTHER_COMPANIES,
        bodies: &[
            "the prosecutor-general’s office",
            "the justice ministry",
            "the supreme court",
            "the state security committee",
        ],
        events: &[
            (
                "{T} court jails blogger for {w} years over social media posts",
                "A court in {T} sentenced {NB}, a blogger, to {w} years in prison for what prosecutors described as inciting social discord.",
            ),
            (
                "{A} supreme court upholds {w}-year sentence for {NB}",
                "The supreme court of {C} rejected an appeal by {NB}, {JB}, against a {w}-year sentence handed down last year.",
            ),
            (
                "Appeals court in {T} frees {w} jailed activists",
                "An appeals court in {T} ordered the release of {w} activists who had been held since a demonstration in {mo}.",
            ),
            (
                "Prosecutors in {C} seek {w}-year term for former minister",
                "Prosecutors in {C} asked a judge to jail a former deputy minister for {w} years on charges of abuse of office.",
            ),
            (
                "Trial of {A} critic {NB} opens behind closed doors",
                "The trial of {NB}, {JB}, opened in {T} on {wd}, with journalists and diplomats barred from the courtroom.",
            ),
            (
                "{A} court moves opposition figure {NB} to house arrest",
                "A court in {T} agreed to move {NB}, {JB}, from a detention centre to house arrest while an investigation into alleged tax offences continues.",
            ),
            (
                "Rights groups decry “show trial” of {T} trade unionists",
                "Rights groups condemned the trial in {T} of {w} trade union organisers accused of calling an illegal strike.",
            ),
        ],
        follows: &[
            "Defence lawyers said they had not been given access to the case file until days before the hearing.",
            "{^G} said the charges were politically motivated and called for {RB} to be freed immediately.",
            "The judge also barred {RB} from leaving {T} for {w2} years after the sentence is served.",
            "Relatives said {RB} had spent more than {w2} months in a pretrial detention centre.",
            "The court rejected a defence request to call independent witnesses.",
            "Article {n} of the criminal code, under which the case was brought, carries a maximum penalty of ten years.",
            "{RB} pleaded not guilty and told the court the case against {himB} had been invented by investigators.",
        ],
    },
    Topic {
        tags: &[1, 0, 5],
        titles: &[
            "Information Minister",
            "Culture Minister",
            "Deputy Prime Minister",
        ],
        companies: &OTHER_COMPANIES,
        bodies: &[
            "the information ministry",
            "the media regulator",
            "the interior ministry",
            "the city administration",
        ],
        events: &[
            (
                "{A} regulator blocks {w} independent news websites",
                "The media regulator in {C} blocked access to {w} independent news websites, accusing them of spreading information that threatened public order.",
            ),
            (
                "{A} parliament backs “foreign agents” bill with {n} votes",
                "Lawmakers in {C} approved in a first reading, with {n} votes in favour, a bill that would require media outlets receiving money from abroad to register as “foreign agents”.",
            ),
            (
                "Reporters detained while covering rally in {T}",
                "Police in {T} detained {w} journalists who were reporting on a protest outside the city administration on {wd}.",
            ),
            (
                "Editor of {T} newspaper fined over “false information”",
                "A court in {T} fined the editor of a local newspaper {l} for publishing what it called false information about the regional authorities.",
            ),
            (
                "{A} authorities restrict internet access in {T} region",
                "Mobile internet in {T} and the surrounding region was cut for a third day on {wd}, residents said.",
            ),
            (
                "{A} television channel loses licence {w} days after critical report",
                "The broadcasting regulator of {C} withdrew the licence of a private television channel {w} days after it aired a report on the finances of a senior official.",
            ),
            (
                "{n} journalists in {C} warn new media law will silence critics",
                "More than {n} journalists in {C} signed an open letter asking {PA} to withdraw a draft media law that would make editors liable for readers’ comments.",
            ),
            (
                "{C} to require bloggers with {b} followers to register",
                "Bloggers in {C} with more than {b} followers will have to register with the authorities and disclose their income under rules approved on {wd}.",
            ),
        ],
        follows: &[
            "The websites remained accessible to users with virtual private networks.",
            "{^G} said the draft law was modelled on legislation used elsewhere in the region to close down critical outlets.",
            "The journalists were released after several hours without charge, but their cameras were kept by the police.",
            "{A} officials have said the law is needed to protect the country from foreign interference.",
            "{C} ranks near the bottom of most international indices of press freedom.",
            "Several reporters said they had been followed by plain-clothes officers in recent weeks.",
            "The channel said it would challenge the decision in court.",
        ],
    },
    Topic {
        tags: &[3, 4, 9],
        titles: &[
            "Energy Minister",
            "Deputy Prime Minister",
            "Industry Minister",
        ],
        companies: &ENERGY_COMPANIES,
        bodies: &[
            "the energy ministry",
            "the state oil company",
            "the state grid operator",
            "the cabinet",
        ],
        events: &[
            (
                "{A} gas exports to {C2} up {p} in first half",
                "{C} exported {p} more natural gas to {C2} in the first six months of the year than in the same period last year, the energy ministry said.",
            ),
            (
                "{K} signs {d} deal to build power plant near {T}",
                "{K} signed an agreement worth {d} to build a gas-fired power station near {T}, the company said in a statement.",
            ),
            (
                "{C} and {C2} agree to link electricity grids",
                "The energy ministers of {C} and {C2} signed a memorandum on connecting their national electricity grids by {y+}.",
            ),
            (
                "Pipeline repairs cut {A} oil output by {p}",
                "Oil production in {C} fell by {p} in {mo} after repairs on a main export pipeline forced producers to cut output.",
            ),
            (
                "{A} government raises domestic fuel prices by {p}",
                "The government of {C} raised regulated prices for petrol and diesel by {p}, the second increase this year.",
            ),
            (
                "Winter power cuts return to {T} as reservoir runs low",
                "Households in {T} were left without electricity for up to {w} hours a day as water levels in the main reservoir fell.",
            ),
            (
                "{A} solar park near {T} starts supplying grid",
                "A solar park with a capacity of {n} megawatts began supplying power to the grid near {T} on {wd}.",
            ),
            (
                "{K} reports gas find in western {C}",
                "{K} said exploratory drilling in western {C} had found a gas deposit that could hold about {n} billion cubic metres.",
            ),
        ],
        follows: &[
            "The project is due to be completed by the end of {y+}.",
            "Analysts said the increase reflected higher demand from industry as well as colder weather.",
            "Officials said the rationing would continue until the spring thaw refills the reservoir.",
            "The energy ministry blamed the shortfall on ageing equipment at the city’s main heating plant.",
            "{K} did not disclose the terms of the financing.",
            "Energy accounts for about {p2} of the country’s export earnings.",
            "{RB} said the price rise would hit rural households hardest.",
            "The plant will be built with equipment supplied by European and Chinese manufacturers.",
        ],
    },
    Topic {
        tags: &[9, 15, 16],
        titles: &["Finance Minister", "Economy Minister", "Prime Minister"],
        companies: &OTHER_COMPANIES,
        bodies: &[
            "the finance ministry",
            "the national bank",
            "the economy ministry",
            "the state statistics committee",
        ],
        events: &[
            (
                "{A} central bank raises key rate to {p}",
                "The national bank of {C} raised its main interest rate to {p}, citing rising food prices and a weaker currency.",
            ),
            (
                "Inflation in {C} hits {p}, highest since {y-}",
                "Annual inflation in {C} accelerated to {p} in {mo}, the highest rate since {y-}, according to the state statistics committee.",
            ),
            (
                "{A} currency falls {p} as remittances slow",
                "The {A} currency lost {p} of its value against the US dollar in a week as money transfers from workers abroad declined.",
            ),
            (
                "{A} budget for {y+} foresees wider deficit",
                "The government of {C} submitted a draft budget for {y+} that foresees spending of {l}, with a deficit of {p} of GDP.",
            ),
            (
                "{K} to list shares on {T0} exchange",
                "{K} plans to sell a minority stake on the stock exchange in {T0} before the end of the year, its chief executive said.",
            ),
            (
                "{C} secures {d} loan for road building",
                "{C} agreed a loan of {d} with a group of international lenders to rebuild roads in the {T} region.",
            ),
            (
                "Flour prices in {T} markets climb {p}",
                "The price of flour in markets in {T} has risen by {p} since {mo}, traders said, as imports from neighbouring countries slowed.",
            ),
        ],
        follows: &[
            "Food and utility tariffs accounted for most of the increase.",
            "The bank said it was ready to tighten policy further if prices kept rising.",
            "Economists expect growth to slow to about {p2} next year.",
            "The finance ministry said the deficit would be covered mainly through domestic borrowing.",
            "Small traders in {T} said higher prices for imported goods had already cut their sales.",
            "The state owns {p2} of the company, which employs about {b2} people.",
            "A kilogram of flour in {T} now costs about {n} {cur}, according to market traders.",
        ],
    },
    Topic {
        tags: &[8, 0, 10],
        titles: &[
            "Interior Minister",
            "Deputy Prime Minister",
            "Prime Minister",
        ],
        companies: &MINING_COMPANIES,
        bodies: &[
            "the interior ministry",
            "the city administration",
            "the regional governor’s office",
            "the prosecutor’s office",
        ],
        events: &[
            (
                "Hundreds rally in {T} over water shortages",
                "Several hundred people gathered outside the regional administration in {T} on {wd} to demand a reliable supply of drinking water.",
            ),
            (
                "{T} police disperse protest over fuel prices",
                "Police in {T} dispersed a crowd protesting against higher fuel prices and held at least {n} people, local media reported.",
            ),
            (
                "{A} authorities ban public gatherings until end of {mo}",
                "The authorities in {C} banned all public gatherings in the capital until the end of {mo}, citing security concerns.",
            ),
            (
                "Farmers block highway near {T} in land dispute",
                "Farmers blocked the main highway near {T} for several hours on {wd} in protest at plans to hand their land to a private investor.",
            ),
            (
                "{T} residents picket city hall over demolition plans",
                "Residents of an old district of {T} picketed the city administration after receiving notice that their homes would be demolished.",
            ),
            (
                "Miners in {T} strike over {w} months of unpaid wages",
                "About {n} workers at a coal mine near {T} stopped work to demand wages they said had not been paid for {w} months.",
            ),
            (
                "Protesters in {T} demand release of {NB}",
                "Supporters of {NB}, {JB} held since {mo}, gathered in the centre of {T} on {wd} to call for {himB} to be released.",
            ),
        ],
        follows: &[
            "The protest ended peacefully after the deputy mayor promised to meet a delegation of residents.",
            "Unauthorised rallies are illegal in {C} and organisers face fines or short jail terms.",
            "Officials said the people taken to police stations would be released once their identities had been checked.",
            "Videos shared on social media showed police officers pushing protesters into buses.",
            "The mine’s owner, {K}, said it would pay the arrears by the end of {mo2}.",
            "Residents said they had been offered compensation far below the market value of their flats.",
            "Organisers said they would return every {wd} until their demands were met.",
        ],
    },
    Topic {
        tags: &[14, 10, 18],
        titles: &[
            "Foreign Minister",
            "Deputy Foreign Minister",
            "Prime Minister",
        ],
        companies: &OTHER_COMPANIES,
        bodies: &[
            "the foreign ministry",
            "the defence ministry",
            "the presidential press service",
            "the border service",
        ],
        events: &[
            (
                "{A} and {A2} foreign ministers hold border talks in {T}",
                "The foreign ministers of {C} and {C2} met in {T} on {wd} to discuss the demarcation of disputed sections of their common border.",
            ),
            (
                "{C} summons {A2} envoy over official’s remarks",
                "{C} summoned the ambassador of {C2} to protest against remarks by a senior official that it described as unacceptable.",
            ),
            (
                "{A} leader to visit {C2} in {mo}",
                "{PA} will travel to {C2} in {mo} for talks on trade and water sharing, the government press service said.",
            ),
            (
                "Border clash between {A} and {A2} troops leaves {w} dead",
                "At least {w} servicemen were killed in an exchange of fire on the border between {C} and {C2}, defence officials said.",
            ),
            (
                "{C} and {C2} reopen border crossing near {T}",
                "{C} and {C2} reopened a border crossing near {T} that had been closed for more than {w} months.",
            ),
            (
                "{C} pledges {d} to trans-Caspian transport corridor",
                "{C} signed up to a plan to build a rail and road corridor linking China with Europe across the Caspian Sea and pledged {d} towards it.",
            ),
            (
                "{C} and {C2} sign border demarcation agreement",
                "{C} and {C2} signed an agreement settling the line of about {n} kilometres of their shared border, the foreign ministry said.",
            ),
        ],
        follows: &[
            "Both sides agreed to set up a joint working group that will meet again before the end of {mo2}.",
            "About a third of the border between the two countries has still not been formally agreed.",
            "Each side blamed the other for opening fire first.",
            "Trade between the two countries rose to {d} last year, according to official figures.",
            "The ministry did not say what the official had said.",
            "Traders in {T} welcomed the decision, saying the closure had cost them much of their business.",
            "Freight volumes on the route are expected to reach {b} containers a year by {y+}.",
        ],
    },
    Topic {
        tags: &[11, 9, 15],
        titles: &[
            "Labour Minister",
            "Deputy Prime Minister",
            "Foreign Minister",
        ],
        companies: &OTHER_COMPANIES,
        bodies: &[
            "the labour ministry",
            "the migration service",
            "the national bank",
            "the foreign ministry",
        ],
        events: &[
            (
                "Remittances to {C} fall {p} as migrants return home",
                "Money transfers from workers abroad to {C} fell by {p} in the first quarter, according to central bank data.",
            ),
            (
                "{A} migrants in Russia get {w} days to register under new rules",
                "Labour migrants from {C} working in Russia will have to pass a language test and register their address within {w} days under new rules.",
            ),
            (
                "{C} opens {w} job centres for returning labour migrants",
                "The labour ministry of {C} opened {w} centres to help returning migrants find work or retrain.",
            ),
            (
                "{b} {A} workers to take seasonal jobs abroad",
                "About {b} workers from {C} will be allowed to take seasonal jobs in South Korea and Britain this year, the labour ministry said.",
            ),
            (
                "{A} families in {T} feel pinch as transfers dry up",
                "Shopkeepers and builders in {T} say business has slowed since fewer families began receiving money from relatives working abroad.",
            ),
        ],
        follows: &[
            "Remittances are equivalent to about {p2} of the country’s economic output.",
            "Many migrants have moved on to Turkey, Poland and the Gulf states in search of better pay.",
            "Families in rural areas of {C} depend heavily on money sent home by relatives abroad.",
            "Officials said priority would be given to applicants from regions with high unemployment.",
            "{RB} said many migrants worked without contracts and had little legal protection.",
            "The ministry said about {b2} people had registered at the centres in the first month.",
        ],
    },
    Topic {
        tags: &[12, 17, 16],
        titles: &[
            "Ecology Minister",
            "Agriculture Minister",
            "Deputy Prime Minister",
        ],
        companies: &ENERGY_COMPANIES,
        bodies: &[
            "the ecology ministry",
            "the agriculture ministry",
            "the city administration",
            "the emergencies ministry",
        ],
        events: &[
            (
                "Smog blankets {T} as coal burning rises",
                "Air pollution in {T} reached levels several times above the safe limit this week as households burned coal to keep warm.",
            ),
            (
                "Glaciers in {C} have lost {p} of their ice, scientists say",
                "Glaciers in the mountains of {C} have lost about {p} of their volume over the past {w} decades, according to a study by local and foreign scientists.",
            ),
            (
                "Drought cuts {A} grain harvest by {p}",
                "The grain harvest in {C} will be {p} smaller than last year because of drought in the main growing regions, the agriculture ministry said.",
            ),
            (
                "{T} residents oppose new landfill",
                "Residents of villages near {T} collected {b} signatures against plans to build a waste dump close to their homes.",
            ),
            (
                "{A} government bans logging in mountain forests for {w} years",
                "The government of {C} imposed a {w}-year ban on commercial logging in mountain forests.",
            ),
            (
                "Dust storm closes schools in {T}",
                "A dust storm swept across {T} on {wd}, closing schools and grounding flights for several hours.",
            ),
        ],
        follows: &[
            "Schools in the worst-affected districts were told to keep children indoors.",
            "Scientists warned that shrinking glaciers could reduce water supplies for farmers downstream within a generation.",
            "The ministry said it would release grain from state reserves to keep bread prices stable.",
            "Environmental groups said the project had been approved without a proper assessment of its impact.",
            "The city has promised to switch several thousand homes from coal to gas heating by {y+}.",
            "Forest cover in {C} has fallen by about {p2} since independence, officials estimate.",
        ],
    },
    Topic {
        tags: &[13, 5, 0],
        titles: &["Culture Minister", "Education Minister", "Justice Minister"],
        companies: &OTHER_COMPANIES,
        bodies: &[
            "the religious affairs committee",
            "the education ministry",
            "the justice ministry",
        ],
        events: &[
            (
                "{A} authorities close {w} unregistered prayer houses",
                "Officials in {C} closed {w} prayer houses in the {T} region that had not been registered with the state religious affairs committee.",
            ),
            (
                "Court in {T} fines {w} believers for meeting without permit",
                "A court in {T} fined {w} members of a small Protestant congregation for holding a meeting in a private flat without permission.",
            ),
            (
                "{A} ministry orders {T} schools to enforce dress rules",
                "The education ministry of {C} told head teachers in {T} to enforce rules that ban religious clothing in classrooms.",
            ),
            (
                "{C} clears {n} religious titles for import",
                "{C} relaxed rules that required all religious books brought into the country to be checked by a state panel of experts, and cleared {n} titles held at customs.",
            ),
        ],
        follows: &[
            "All religious groups in {C} must register with the state, a process that critics say is slow and arbitrary.",
            "{^G} said the fines were part of a pattern of pressure on religious minorities.",
            "Officials said the rules were meant to protect the secular character of the state.",
            "Members of the congregation said they had met in the same flat for more than {w2} years.",
            "Parents in {T} said some girls had been sent home from school for wearing headscarves.",
        ],
    },
    Topic {
        tags: &[6, 7, 9],
        titles: &[
            "Finance Minister",
            "Prosecutor-General",
            "Transport Minister",
        ],
        companies: &OTHER_COMPANIES,
        bodies: &[
            "the anti-corruption agency",
            "the prosecutor-general’s office",
            "the audit chamber",
            "the finance ministry",
        ],
        events: &[
            (
                "Former {A} minister detained over {d} kickbacks",
                "The anti-corruption agency of {C} detained a former minister on suspicion of taking kickbacks worth {d} from contractors.",
            ),
            (
                "{A} anti-graft agency arrests {T} deputy mayor",
                "Investigators in {T} arrested the city’s deputy mayor on suspicion of accepting a bribe in exchange for a plot of land.",
            ),
            (
                "{^w} {K} executives charged over {l} tax bill",
                "Prosecutors in {C} charged {w} senior executives of {K} with evading taxes worth {l}.",
            ),
            (
                "Audit finds {d} missing from {A} road fund",
                "State auditors in {C} said they could not account for {d} set aside for road repairs over the past {w} years.",
            ),
            (
                "{T} court seizes assets of ex-customs chief",
                "A court in {T} ordered the seizure of flats, cars and bank accounts belonging to a former head of the customs service.",
            ),
            (
                "{A} graft watchdog’s report names {w} ministries",
                "An annual report by the anti-corruption agency of {C} said procurement rules had been broken at {w} ministries, including the one led by {PA}.",
            ),
        ],
        follows: &[
            "A lawyer for the suspects said they denied any wrongdoing.",
            "If convicted, the suspects face up to {w2} years in prison and the confiscation of their property.",
            "The case is the latest in a series of anti-corruption investigations announced since the start of the year.",
            "Critics say the campaign has mainly targeted officials who have fallen out of favour.",
            "Investigators said they had seized cash, cars and property in {T} and abroad.",
            "{K} said it was cooperating with the investigation.",
        ],
    },
];

/// Endings for headlines.
static HEADLINE_TAILS: [&str; 6] = [
    ", officials say",
    ", says {G}",
    " in {T}",
    ", local media report",
    ", {T0} says",
    ", report says",
];

/// Sentences that fit any story.
static GENERAL: [&str; 18] = [
    "{PA} said the government would publish more details in the coming weeks.",
    "{^O} did not respond to a request for comment.",
    "{^O} said it was studying the matter.",
    "{RB} told The Bulletin that the decision had been expected for some time.",
    "Local media said the issue had been discussed at a closed cabinet meeting in {mo}.",
    "The figures could not be independently verified.",
    "The news was first reported by a local news website.",
    "A similar case in {T2} last year ended with the charges being dropped.",
    "The announcement came a day after {PA} met business leaders in {T}.",
    "It was not clear how many people had been affected.",
    "The issue has been hotly debated on social media in {C}.",
    "Officials in {T2} declined to comment.",
    "{A} state television did not report the story.",
    "The new rules are due to come into force on {mo} 1.",
    "Diplomats in {T} said they were following the situation closely.",
    "{RA} has held the post since {y-}.",
    "The government has promised to review the decision by the end of {y}.",
    "Few people in {T} expect the situation to change quickly.",
];

/// Ways to report a quotation.
static QUOTE_FRAMES: [&str; 7] = [
    "“{^q},” {RA} said.",
    "“{^q},” {RB} said, speaking by telephone from {T}.",
    "{RA} said: “{^q}.”",
    "“{^q},” said {RBe}.",
    "“{^q},” {O} said in a statement.",
    "{RB} told reporters in {T}: “{^q}.”",
    "“{^q},” {RB} said, adding that {G} would monitor the case.",
];

/// Quotations (no closing punctuation; capitalised by the frame).
static QUOTES: [&str; 26] = [
    "we will not allow anyone to destabilise the situation in the country",
    "nobody has explained to us why this decision was taken",
    "this is a routine procedure and there is nothing political about it",
    "people are tired of promises, they want to see results",
    "we have done everything the law requires of us",
    "the court simply ignored the evidence we presented",
    "prices go up every month but salaries stay the same",
    "we expect the first deliveries before the end of the year",
    "our door remains open to dialogue",
    "the government’s figures don’t match what we see on the ground",
    "it’s a question of national security",
    "we’re not against development, we just want to be consulted",
    "they took my phone and told me to stop filming",
    "this agreement opens a new chapter in relations between our countries",
    "the case against him was fabricated from start to finish",
    "our members haven’t been paid since the spring",
    "we will appeal, and if necessary we will go to the UN",
    "there is no alternative to reform",
    "the water comes for two hours a day, if we are lucky",
    "the investigation is continuing and further arrests are possible",
    "nobody in this village was asked for their opinion",
    "we don’t know where our colleague is being held",
    "the market will decide, not the ministry",
    "it’s the worst winter I can remember",
    "we have nothing to hide and we’ll answer every question",
    "a law like this one belongs in the last century",
];

// ---------------------------------------------------------------------------
// The generator.

#[derive(Debug, Clone, Copy)]
struct Issue {
    /// The number printed on the issue line (a typo for one issue in a thousand).
    printed: u64,
    /// Days since 1970-01-01.
    date: i64,
}

#[derive(Debug, Clone, Copy)]
struct Person {
    first: &'static str,
    surname: &'static str,
    female: bool,
    title: &'static str,
    role: &'static str,
}

/// An amount of money: `N million`/`$Nm` or `N.N billion`/`$N.Nbn`.
#[derive(Debug, Clone, Copy)]
enum Amount {
    Millions(u64),
    Billions(u64, u64),
}

/// A percentage: `12%` or `12.4%`.
#[derive(Debug, Clone, Copy)]
struct Pct(u64, Option<u64>);

/// Values fixed for one story, so that the headline and the text agree.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    n: u64,
    b: u64,
    w: usize,
    p: Pct,
    d: Amount,
    l: Amount,
    mo: usize,
    y_minus: i64,
}

struct Ctx {
    topic: &'static Topic,
    fixed: Fixed,
    c: &'static Country,
    c2: &'static Country,
    town: &'static str,
    town2: &'static str,
    pa: Person,
    pb: Person,
    company: &'static str,
    group: &'static str,
    year: i64,
    weekday: usize,
}

struct Generator {
    rng: Rng,
    /// Stories per issue: `per_issue..=4 * per_issue`.
    per_issue_lo: u64,
    issue_index: u64,
    typo_index: u64,
    issue_date: i64,
    header_tag: Option<String>,
    /// Quotations already used in the current story.
    used_quotes: u64,
    /// Whether the story's two people have been introduced by full name yet.
    a_intro: bool,
    b_intro: bool,
}

/// The range of stories per issue for a run of `stories`: 3–12, scaled up for very
/// large runs so that the whole run spans at most ~1,400 years on average (and never
/// reaches year 9999: at most 250,000 / 3 + 1 issues of at most 17 days each).
fn stories_per_issue(stories: u64) -> (u64, u64) {
    let k = stories.div_ceil(250_000).max(1);
    (3 * k, 12 * k)
}

impl Generator {
    fn new(options: &GenOptions) -> Self {
        let mut rng = Rng::new(options.seed);
        let start = days_from_civil(1995, 1, 2) + rng.below(14) as i64;
        let typo_index = rng.below(TYPO_BLOCK / 2);
        let (lo, _) = stories_per_issue(options.stories);
        Generator {
            rng,
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

    fn stories_in_issue(&mut self) -> u64 {
        let lo = self.per_issue_lo;
        self.rng.range(lo, 4 * lo)
    }

    fn next_issue(&mut self) -> Issue {
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
            role: ROLES[self.rng.index(ROLES.len())],
        }
    }

    fn story(&mut self, buf: &mut Vec<u8>, eol: &[u8], issue: &Issue, date: i64) {
        let (year, month, day) = civil_from_days(date);
        let rng = &mut self.rng;
        let topic = &TOPICS[rng.index(TOPICS.len())];
        let ci = rng.index(COUNTRIES.len());
        let mut ci2 = rng.index(COUNTRIES.len() - 1);
        if ci2 >= ci {
            ci2 += 1;
        }
        let c = &COUNTRIES[ci];
        let c2 = &COUNTRIES[ci2];
        let t1 = pick_town(rng, c);
        let mut t2 = rng.index(c.places.len());
        if t2 == t1 && c.places.len() > 1 {
            t2 = (t2 + 1) % c.places.len();
        }
        let company = topic.companies[rng.index(topic.companies.len())];
        let group = GROUPS[rng.index(GROUPS.len())];
        let pa = self.person(c, topic.titles);
        let mut pb = self.person(c, topic.titles);
        while pb.surname == pa.surname {
            pb.surname = c.surnames[self.rng.index(c.surnames.len())];
        }
        let rng = &mut self.rng;
        let fixed = Fixed {
            n: rng.range(3, 480),
            b: rng.range(12, 2_500) * 100,
            w: rng.index(NUMBER_WORDS.len()),
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
                let t = HEADLINE_TAILS[self.rng.index(HEADLINE_TAILS.len())];
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
            let country = &COUNTRIES[cidx];
            let old = country.old.iter().find(|(j, _)| *j == idx).map(|(_, s)| *s);
            match old {
                Some(o) if rng.chance(R_OLD_SPELLING) => buf.extend_from_slice(o.as_bytes()),
                _ => push_upper(buf, country.places[idx]),
            }
            buf.push(b'/');
        }
        buf.extend_from_slice(DATELINE_MONTHS[month as usize - 1].as_bytes());
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
                    let pools: [&[&str]; 3] = [topic.follows, &GENERAL, &QUOTE_FRAMES];
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
                    let (k, i) = chosen.unwrap_or((1, self.rng.index(GENERAL.len())));
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
            buf.extend_from_slice(ISSUE_MONTHS[im as usize - 1].as_bytes());
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
                    rng.index(TAGS.len())
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
                if self.header_tag.as_deref() == Some(TAGS[t]) {
                    continue;
                }
                if !first {
                    buf.extend_from_slice(b", ");
                }
                first = false;
                buf.extend_from_slice(TAGS[t].as_bytes());
            }
            buf.extend_from_slice(eol);
        }
    }

    /// Expand a template into `buf`.
    fn expand(&mut self, buf: &mut Vec<u8>, template: &str, cx: &Ctx) {
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

    fn slot(&mut self, buf: &mut Vec<u8>, name: &[u8], cx: &Ctx) {
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
            b"w" => s(buf, NUMBER_WORDS[cx.fixed.w]),
            b"w2" => s(buf, NUMBER_WORDS[rng.index(NUMBER_WORDS.len())]),
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
            b"mo" => s(buf, MONTH_NAMES[cx.fixed.mo]),
            b"mo2" => s(buf, MONTH_NAMES[rng.index(12)]),
            b"wd" => s(buf, WEEKDAYS[cx.weekday]),
            b"q" => {
                let i = pick_unused(rng, QUOTES.len(), self.used_quotes)
                    .unwrap_or_else(|| rng.index(QUOTES.len()));
                self.used_quotes |= 1 << i;
                s(buf, QUOTES[i]);
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

fn pct(rng: &mut Rng) -> Pct {
    let whole = rng.range(1, 39);
    Pct(
        whole,
        if rng.chance(8000) {
            Some(rng.range(1, 9))
        } else {
            None
        },
    )
}

/// Millions (`1..=max_millions`) with probability `millions_per_10k`, else billions.
fn amount(rng: &mut Rng, millions_per_10k: u64, max_millions: u64) -> Amount {
    if rng.chance(millions_per_10k) {
        Amount::Millions(rng.range(5, max_millions))
    } else {
        Amount::Billions(rng.range(1, 9), rng.range(1, 9))
    }
}

fn push_pct(buf: &mut Vec<u8>, p: Pct) {
    push_u64(buf, p.0);
    if let Some(d) = p.1 {
        buf.push(b'.');
        push_u64(buf, d);
    }
    buf.push(b'%');
}

/// A town of `c`, the capital half of the time.
fn pick_town(rng: &mut Rng, c: &Country) -> usize {
    if rng.chance(5000) {
        0
    } else {
        rng.index(c.places.len())
    }
}

/// A pool index not yet in `mask` (pools have at most 64 entries).
fn pick_unused(rng: &mut Rng, len: usize, mask: u64) -> Option<usize> {
    debug_assert!(len <= 64);
    for _ in 0..3 {
        let i = rng.index(len);
        if mask & (1 << i) == 0 {
            return Some(i);
        }
    }
    let start = rng.index(len);
    (0..len)
        .map(|k| (start + k) % len)
        .find(|&i| mask & (1 << i) == 0)
}

/// The number as mistyped: a non-leading digit dropped (`480` → `48`), or a single
/// digit doubled (`7` → `77`).
fn mistype(number: u64, rng: &mut Rng) -> u64 {
    if number < 10 {
        return number * 11;
    }
    let digits = number.to_string();
    let drop = 1 + rng.index(digits.len() - 1);
    let kept: String = digits
        .char_indices()
        .filter(|&(i, _)| i != drop)
        .map(|(_, ch)| ch)
        .collect();
    kept.parse().unwrap_or(number / 10)
}

fn full_name(buf: &mut Vec<u8>, p: &Person) {
    buf.extend_from_slice(p.first.as_bytes());
    buf.push(b' ');
    surname(buf, p);
}

fn short_name(buf: &mut Vec<u8>, p: &Person) {
    buf.extend_from_slice(if p.female { b"Ms " } else { b"Mr " });
    surname(buf, p);
}

fn surname(buf: &mut Vec<u8>, p: &Person) {
    buf.extend_from_slice(p.surname.as_bytes());
    if p.female && (p.surname.ends_with("ov") || p.surname.ends_with("ev")) {
        buf.push(b'a');
    }
}

fn push_upper(buf: &mut Vec<u8>, s: &str) {
    buf.extend(s.bytes().map(|b| b.to_ascii_uppercase()));
}

fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// `12345` → `12,345`.
fn push_grouped(buf: &mut Vec<u8>, n: u64) {
    if n >= 1000 {
        push_grouped(buf, n / 1000);
        let r = n % 1000;
        buf.push(b',');
        buf.push(b'0' + (r / 100) as u8);
        buf.push(b'0' + (r / 10 % 10) as u8);
        buf.push(b'0' + (r % 10) as u8);
    } else {
        push_u64(buf, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn gen_with(options: &GenOptions) -> (String, GenStats) {
        let mut out = Vec::new();
        let stats = generate(options, &mut out).expect("writing to a Vec cannot fail");
        assert_eq!(stats.bytes, out.len() as u64);
        (String::from_utf8(out).expect("output is UTF-8"), stats)
    }

    fn gen_text(stories: u64, seed: u64) -> (String, GenStats) {
        gen_with(&GenOptions {
            stories,
            seed,
            ..GenOptions::default()
        })
    }

    /// One story as written, split into its lines.
    #[derive(Debug)]
    struct Raw<'a> {
        headline: &'a str,
        dateline: &'a str,
        paragraphs: Vec<&'a str>,
        ends: &'a str,
        issue_line: &'a str,
        copyright: &'a str,
        tags: Option<&'a str>,
    }

    /// Split the generator's output into stories (LF line ends, no BOM, no header).
    fn split(text: &str) -> Vec<Raw<'_>> {
        let lines: Vec<&str> = text.split('\n').filter(|l| !l.is_empty()).collect();
        let mut stories = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let headline = lines[i];
            let dateline = lines[i + 1];
            let mut j = i + 2;
            let mut paragraphs = vec![dateline];
            while lines[j] != "ENDS" && lines[j] != "— ENDS" {
                paragraphs.push(lines[j]);
                j += 1;
            }
            let ends = lines[j];
            let issue_line = lines[j + 1];
            let copyright = lines[j + 2];
            assert!(
                issue_line.starts_with("— This story was "),
                "{issue_line:?}"
            );
            assert!(copyright.starts_with("— Copyright the "), "{copyright:?}");
            let tags = lines
                .get(j + 3)
                .copied()
                .filter(|l| l.starts_with("— Tags: "));
            i = j + 3 + usize::from(tags.is_some());
            stories.push(Raw {
                headline,
                dateline,
                paragraphs,
                ends,
                issue_line,
                copyright,
                tags,
            });
        }
        stories
    }

    #[derive(Debug)]
    struct Dateline {
        places: Vec<String>,
        month: u32,
        day: u32,
        year: Option<i64>,
    }

    fn parse_dateline(line: &str) -> Dateline {
        let at = line.find("(The Bulletin)").expect("credit");
        let head = line[..at].trim_end_matches([' ', '\u{a0}']);
        let mut parts: Vec<&str> = head.split('/').collect();
        let date = parts.pop().expect("date");
        let mut words = date.split(' ');
        let month = words
            .next()
            .and_then(|m| DATELINE_MONTHS.iter().position(|x| *x == m));
        let month = month.expect("AP month") as u32 + 1;
        let day: u32 = words.next().expect("day").parse().expect("day number");
        let year = words.next().map(|y| y.parse().expect("year number"));
        assert!(words.next().is_none(), "{line:?}");
        assert!((1..=31).contains(&day));
        let places = parts.iter().map(|p| p.to_string()).collect();
        Dateline {
            places,
            month,
            day,
            year,
        }
    }

    #[derive(Debug)]
    struct IssueLine {
        first: bool,
        number: u64,
        /// (y, m, d) and the form: 0 `, on`, 1 `, published on`.
        date: Option<((i64, u32, u32), u8)>,
        full_stop: bool,
    }

    fn parse_issue_line(line: &str) -> IssueLine {
        let rest = line.strip_prefix("— This story was ").expect("issue line");
        let (first, rest) = match rest.strip_prefix("first ") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let rest = rest
            .strip_prefix("published in issue ")
            .expect("published in issue");
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number = rest[..digits].parse().expect("issue number");
        let rest = rest[digits..]
            .strip_prefix(" of the Central Asia & South Caucasus Bulletin")
            .expect("publication");
        if rest.is_empty() {
            return IssueLine {
                first,
                number,
                date: None,
                full_stop: false,
            };
        }
        let (form, rest) = match rest.strip_prefix(", on ") {
            Some(r) => (0, r),
            None => (1, rest.strip_prefix(", published on ").expect("date form")),
        };
        let (full_stop, rest) = match rest.strip_suffix('.') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let w: Vec<&str> = rest.split(' ').collect();
        assert_eq!(w.len(), 3, "{line:?}");
        let m = ISSUE_MONTHS
            .iter()
            .position(|x| *x == w[0])
            .expect("issue month") as u32
            + 1;
        let d = w[1].parse().expect("issue day");
        let y = w[2].parse().expect("issue year");
        IssueLine {
            first,
            number,
            date: Some(((y, m, d), form)),
            full_stop,
        }
    }

    fn copyright_year(line: &str) -> i64 {
        line.strip_prefix("— Copyright the Central Asia & South Caucasus Bulletin ")
            .expect("copyright line")
            .parse()
            .expect("copyright year")
    }

    /// Indexes of stories whose issue number breaks the sequence (true numbers go up
    /// by one from issue to issue).
    fn anomalies(numbers: &[u64]) -> Vec<usize> {
        let mut last = 0;
        let mut bad = Vec::new();
        for (i, &n) in numbers.iter().enumerate() {
            // A story may follow a mistyped issue, so skipping one number is allowed.
            if n >= last && n <= last + 2 {
                last = n;
            } else {
                bad.push(i);
            }
        }
        bad
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, sa) = gen_text(2_000, 7);
        let (b, sb) = gen_text(2_000, 7);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        let (c, _) = gen_text(2_000, 8);
        assert_ne!(a, c);
    }

    #[test]
    fn writes_the_requested_number_of_stories() {
        for n in [0, 1, 2, 7, 13, 5_000] {
            let (text, stats) = gen_text(n, 3);
            let ends = text
                .lines()
                .filter(|l| *l == "ENDS" || *l == "— ENDS")
                .count();
            assert_eq!(ends as u64, n);
            assert_eq!(stats.stories, n);
            assert_eq!(split(&text).len() as u64, n);
            if n == 0 {
                assert!(text.is_empty());
                assert_eq!(stats.issues, 0);
            } else {
                assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
                assert!(stats.issues >= 1 && stats.issues <= n);
            }
        }
    }

    #[test]
    fn layout_is_blank_line_separated_blocks() {
        let (text, _) = gen_text(3_000, 11);
        assert!(!text.contains("\n\n\n"));
        assert!(
            !text.contains('{') && !text.contains('}'),
            "unexpanded template slot"
        );
        assert!(!text.contains('\r') && !text.starts_with('\u{feff}'));
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            // Non-blank and blank lines alternate.
            assert_eq!(l.is_empty(), i % 2 == 1, "line {}: {l:?}", i + 1);
        }
        for s in split(&text) {
            assert!(
                !s.headline.ends_with('.') && !s.headline.ends_with(' '),
                "{:?}",
                s.headline
            );
            assert!(
                s.headline
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
            );
            assert!((1..=8).contains(&s.paragraphs.len()));
            for p in &s.paragraphs[1..] {
                assert!(!p.starts_with([' ', '\u{a0}']), "{p:?}");
            }
        }
    }

    #[test]
    fn dates_issue_numbers_and_copyright_are_consistent() {
        for seed in [1, 2, 3] {
            let (text, stats) = gen_text(5_000, seed);
            let stories = split(&text);
            let mut numbers = Vec::new();
            let mut last_issue_date = i64::MIN;
            for s in &stories {
                let d = parse_dateline(s.dateline);
                let issue = parse_issue_line(s.issue_line);
                let cy = copyright_year(s.copyright);
                numbers.push(issue.number);
                if let Some(y) = d.year {
                    assert_eq!(y, cy, "copyright year is the dateline's year");
                }
                let Some(((iy, im, id), _)) = issue.date else {
                    continue;
                };
                let issue_day = days_from_civil(iy, im, id);
                assert!(issue_day >= last_issue_date, "issue dates go forward");
                last_issue_date = issue_day;
                // The year, as a reader infers it when absent: on or before the issue.
                let year = d.year.unwrap_or_else(|| {
                    if days_from_civil(iy, d.month, d.day) <= issue_day {
                        iy
                    } else {
                        iy - 1
                    }
                });
                assert_eq!(year, cy);
                let story_day = days_from_civil(year, d.month, d.day);
                assert_eq!(
                    civil_from_days(story_day),
                    (year, d.month, d.day),
                    "valid date"
                );
                assert!(
                    story_day <= issue_day,
                    "{} after {:?}",
                    s.dateline,
                    issue.date
                );
                assert!(
                    issue_day - story_day <= 14,
                    "{} long before {:?}",
                    s.dateline,
                    issue.date
                );
            }
            // Issue numbers increase by one from issue to issue, apart from the typos.
            let bad = anomalies(&numbers);
            let bad_issues: HashSet<u64> = bad.iter().map(|&i| numbers[i]).collect();
            assert!(
                !bad.is_empty(),
                "seed {seed}: expected a mistyped issue number"
            );
            assert!(bad_issues.len() <= 2, "seed {seed}: {bad_issues:?}");
            let good: Vec<u64> = numbers
                .iter()
                .enumerate()
                .filter(|(i, _)| !bad.contains(i))
                .map(|(_, &n)| n)
                .collect();
            assert!(good.windows(2).all(|w| w[1] >= w[0] && w[1] <= w[0] + 2));
            let skips = good.windows(2).filter(|w| w[1] == w[0] + 2).count();
            assert_eq!(skips, bad_issues.len(), "only a mistyped issue is skipped");
            assert_eq!(good.first(), Some(&1));
            assert_eq!(good.last().copied(), Some(stats.issues));
            // Issues start in (late) 1994/1995.
            let first = parse_issue_line(stories[0].issue_line);
            if let Some(((y, _, _), _)) = first.date {
                assert_eq!(y, 1995);
            }
        }
    }

    #[test]
    fn every_variation_appears_in_5000_stories() {
        let old: HashSet<&str> = COUNTRIES
            .iter()
            .flat_map(|c| c.old.iter().map(|(_, s)| *s))
            .collect();
        for seed in [1, 2, 3, 4] {
            let (text, _) = gen_text(5_000, seed);
            let stories = split(&text);
            let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
            let mut numbers = Vec::new();
            for s in &stories {
                let mut hit = |name: &'static str, cond: bool| {
                    *seen.entry(name).or_default() += usize::from(cond);
                };
                let d = parse_dateline(s.dateline);
                let issue = parse_issue_line(s.issue_line);
                numbers.push(issue.number);
                hit("em dash", s.dateline.contains("(The Bulletin) — "));
                hit("en dash, no space", {
                    let at = s.dateline.find("(The Bulletin) –");
                    at.is_some_and(|i| !s.dateline[i + "(The Bulletin) –".len()..].starts_with(' '))
                });
                hit(
                    "nbsp after dash",
                    s.dateline.contains("(The Bulletin) —\u{a0} "),
                );
                hit(
                    "nbsp+space after date",
                    s.dateline.contains("\u{a0} (The Bulletin)"),
                );
                hit(
                    "nbsp after date",
                    s.dateline.contains("\u{a0}(The Bulletin)"),
                );
                hit(
                    "trailing nbsp",
                    s.paragraphs.iter().any(|p| p.ends_with('\u{a0}')),
                );
                hit(
                    "trailing space",
                    s.paragraphs.iter().any(|p| p.ends_with(' ')),
                );
                hit(
                    "nbsp between sentences",
                    s.paragraphs.iter().any(|p| p.contains(".\u{a0} ")),
                );
                hit("no year", d.year.is_none());
                hit(
                    "no year, December story in January issue",
                    d.year.is_none()
                        && d.month == 12
                        && issue.date.is_some_and(|((_, m, _), _)| m == 1),
                );
                hit("0 places", d.places.is_empty());
                hit("1 place", d.places.len() == 1);
                hit("3 places", d.places.len() == 3);
                hit(
                    "old spelling",
                    d.places.iter().any(|p| old.contains(p.as_str())),
                );
                hit("ENDS", s.ends == "ENDS");
                hit("— ENDS", s.ends == "— ENDS");
                hit("published", !issue.first);
                hit("first published", issue.first);
                hit("issue line without date", issue.date.is_none());
                hit(", on DATE", issue.date.is_some_and(|(_, f)| f == 0));
                hit(
                    ", published on DATE",
                    issue.date.is_some_and(|(_, f)| f == 1),
                );
                hit("full stop", issue.full_stop);
                hit("tags", s.tags.is_some());
                hit("no tags", s.tags.is_none());
                hit(
                    "three tags",
                    s.tags.is_some_and(|t| t.matches(", ").count() == 2),
                );
                hit(
                    "headline quote",
                    s.headline.contains('“') && s.headline.contains('”'),
                );
                hit("headline apostrophe", s.headline.contains('’'));
                hit("body quote", s.paragraphs.iter().any(|p| p.contains('“')));
                hit("1 paragraph", s.paragraphs.len() == 1);
                hit("8 paragraphs", s.paragraphs.len() == 8);
            }
            seen.insert("issue number typo", anomalies(&numbers).len());
            for (name, count) in &seen {
                assert!(*count > 0, "seed {seed}: no {name:?} in 5,000 stories");
            }
            if seed == 1 {
                eprintln!("variation counts in 5,000 stories: {seen:#?}");
            }
        }
    }

    #[test]
    fn crlf_bom_and_header_options() {
        let plain = GenOptions {
            stories: 300,
            seed: 5,
            ..GenOptions::default()
        };
        let (lf, lf_stats) = gen_with(&plain);

        let (crlf, crlf_stats) = gen_with(&GenOptions {
            crlf: true,
            ..plain.clone()
        });
        assert!(crlf.ends_with("\r\n"));
        assert_eq!(crlf.matches('\n').count(), crlf.matches("\r\n").count());
        assert_eq!(crlf.replace("\r\n", "\n"), lf);
        assert_eq!(
            crlf_stats.bytes,
            lf_stats.bytes + lf.matches('\n').count() as u64
        );
        assert_eq!(crlf_stats.stories, lf_stats.stories);

        let (bom, bom_stats) = gen_with(&GenOptions {
            bom: true,
            ..plain.clone()
        });
        assert_eq!(bom.strip_prefix('\u{feff}'), Some(lf.as_str()));
        assert_eq!(bom_stats.bytes, lf_stats.bytes + 3);

        let tagged = GenOptions {
            header_tag: Some("political rights".into()),
            ..plain.clone()
        };
        let (head, _) = gen_with(&tagged);
        let body = head
            .strip_prefix("Tag Archives: political rights\n\n")
            .expect("header");
        assert_eq!(split(body).len(), 300);
        for s in split(body) {
            if let Some(t) = s.tags {
                assert!(t.starts_with("— Tags: political rights"), "{t:?}");
                assert_eq!(t.matches("political rights").count(), 1, "{t:?}");
            }
        }

        let all = GenOptions {
            crlf: true,
            bom: true,
            ..tagged
        };
        let (both, _) = gen_with(&all);
        assert!(both.starts_with("\u{feff}Tag Archives: political rights\r\n\r\n"));
        assert_eq!(
            both.trim_start_matches('\u{feff}').replace("\r\n", "\n"),
            head
        );
    }

    #[test]
    fn headlines_are_mostly_unique() {
        let (text, _) = gen_text(5_000, 9);
        let stories = split(&text);
        let unique: HashSet<&str> = stories.iter().map(|s| s.headline).collect();
        assert!(
            unique.len() * 10 >= stories.len() * 8,
            "{} unique of {}",
            unique.len(),
            stories.len()
        );
    }

    #[test]
    fn runs_stay_far_from_year_9999() {
        for stories in [1, 1_000, 250_000, 1_000_000, 10_000_000, u64::MAX / 2] {
            let (lo, hi) = stories_per_issue(stories);
            assert!(lo >= 3 && hi == 4 * lo);
            let max_issues = stories / lo + 1;
            let last_year = 1995 + max_issues.saturating_mul(17) / 365 + 1;
            assert!(last_year < 6_000, "{stories}: {last_year}");
        }
    }

    #[test]
    fn mistyped_numbers_do_not_fit() {
        let mut rng = Rng::new(1);
        for n in [1, 7, 10, 99, 100, 480, 1_234, 33_333] {
            for _ in 0..10 {
                let m = mistype(n, &mut rng);
                assert_ne!(m, n);
                assert_ne!(m, n + 1);
                assert_ne!(m + 1, n);
            }
        }
        assert_eq!(mistype(7, &mut rng), 77);
        assert!(matches!(mistype(480, &mut rng), 48 | 40));
    }

    #[test]
    fn day_arithmetic_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(days_from_civil(2021, 7, 22)), (2021, 7, 22));
        assert_eq!(
            civil_from_days(days_from_civil(2024, 2, 29) + 1),
            (2024, 3, 1)
        );
        // 2021-07-22 was a Thursday.
        assert_eq!(
            WEEKDAYS[(days_from_civil(2021, 7, 22) + 3).rem_euclid(7) as usize],
            "Thursday"
        );
        for z in (-1_000_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    /// The corpus sample, when the shared folder is present.
    fn corpus() -> Option<String> {
        let name = "corpus/tag-archive-political-rights.txt";
        let mut candidates = Vec::new();
        if let Some(dir) = std::env::var_os("BULLETIN_SHARED") {
            candidates.push(std::path::PathBuf::from(dir).join(name));
        }
        for dir in std::path::Path::new(env!("CARGO_MANIFEST_DIR")).ancestors() {
            candidates.push(dir.join("shared").join(name));
        }
        for path in candidates {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return Some(text);
            }
        }
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("shared/{name} not found (CI=true)");
        }
        eprintln!("skip: shared/{name} not found");
        None
    }

    fn words(s: &str) -> Vec<String> {
        s.replace('\u{a0}', " ")
            .split(|c: char| !(c.is_alphanumeric() || c == '’' || c == '\'' || c == '-'))
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase())
            .collect()
    }

    #[test]
    fn no_corpus_sentence_or_phrase_in_the_output() {
        let Some(corpus) = corpus() else { return };
        let (text, _) = gen_text(5_000, 1);
        let (text2, _) = gen_text(2_000, 2);
        let output = format!("{text}{text2}").replace('\u{a0}', " ");
        // The story text of the corpus: not its header or footers (those are facts of
        // the format, which the generator must reproduce).
        let lines: Vec<&str> = corpus
            .lines()
            .map(|l| l.trim_start_matches('\u{feff}'))
            .filter(|l| {
                !l.trim().is_empty()
                    && !l.starts_with('—')
                    && !l.starts_with("ENDS")
                    && !l.starts_with("Tag Archives")
            })
            .collect();
        assert!(lines.len() > 20);
        let mut sentences = 0;
        for line in &lines {
            // Drop the dateline before the dash.
            let body = line.split_once("(The Bulletin)").map_or(*line, |(_, b)| b);
            let body = body.replace('\u{a0}', " ");
            let body = body.trim_start_matches([' ', '—', '–']).trim();
            for sentence in body.split_inclusive(['.', '?', '!']) {
                let sentence = sentence.trim();
                if sentence.split(' ').count() >= 4 {
                    sentences += 1;
                    assert!(
                        !output.contains(sentence),
                        "corpus sentence in output: {sentence:?}"
                    );
                }
            }
        }
        assert!(sentences > 30);
        // No run of seven words from the corpus's stories either.
        let n = 7;
        let mut shingles = HashSet::new();
        // The dateline and credit are the format, not prose: compare what follows.
        fn prose(line: &str) -> &str {
            line.split_once("(The Bulletin)").map_or(line, |(_, b)| b)
        }
        for line in &lines {
            let w = words(prose(line));
            for win in w.windows(n) {
                shingles.insert(win.join(" "));
            }
        }
        for line in output.lines().filter(|l| !l.starts_with('—')) {
            let w = words(prose(line));
            for win in w.windows(n) {
                assert!(
                    !shingles.contains(&win.join(" ")),
                    "corpus phrase in output: {win:?}"
                );
            }
        }
    }
}
