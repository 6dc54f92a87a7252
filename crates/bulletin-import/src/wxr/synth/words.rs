//! The generator's word lists (invented, apart from place names) and its random
//! numbers.

pub(super) const SITE: &str = "https://bulletin.example";
pub(super) const HOLDER: &str = "Central Asia & South Caucasus Bulletin";

pub(super) const PLACES: &[(&str, &str)] = &[
    ("ALMATY", "Kazakhstan"),
    ("ASTANA", "Kazakhstan"),
    ("BAKU", "Azerbaijan"),
    ("TBILISI", "Georgia"),
    ("YEREVAN", "Armenia"),
    ("BISHKEK", "Kyrgyzstan"),
    ("TASHKENT", "Uzbekistan"),
    ("DUSHANBE", "Tajikistan"),
    ("ASHGABAT", "Turkmenistan"),
];
pub(super) const TOPICS: &[&str] = &[
    "political rights",
    "press freedom",
    "elections",
    "courts",
    "energy",
    "labour",
    "health",
    "environment",
    "religion",
    "migration",
    "corruption",
    "protests",
];
pub(super) const SUBJECTS: &[&str] = &[
    "Regional court",
    "Opposition party",
    "Election commission",
    "Independent newspaper",
    "Energy ministry",
    "Rights group",
    "City council",
    "Trade union",
    "Border service",
    "Central bank",
    "Parliament committee",
    "Prosecutor's office",
];
pub(super) const VERBS: &[&str] = &[
    "rejects",
    "approves",
    "questions",
    "postpones",
    "publishes",
    "challenges",
    "reviews",
    "suspends",
    "announces",
    "delays",
];
pub(super) const OBJECTS: &[&str] = &[
    "new media law",
    "pipeline tender",
    "appeal of jailed blogger",
    "budget for rural clinics",
    "ban on street rallies",
    "report on river pollution",
    "plan for a second airport",
    "wage agreement at copper mine",
    "list of foreign agents",
    "licence of private broadcaster",
];
pub(super) const NOUNS: &[&str] = &[
    "officials",
    "lawyers",
    "residents",
    "journalists",
    "deputies",
    "observers",
    "farmers",
    "teachers",
    "engineers",
    "activists",
    "investors",
    "doctors",
];
pub(super) const ACTIONS: &[&str] = &[
    "said the decision would be reviewed within a month",
    "asked for the documents to be made public",
    "gathered outside the building on Tuesday morning",
    "described the measure as a step backwards",
    "welcomed the change but warned about its cost",
    "filed a complaint with the constitutional court",
    "were not given a reason for the delay",
    "expect a final ruling before the end of the year",
    "pointed to similar cases in neighbouring provinces",
    "declined to comment when reached by telephone",
    "noted that the previous plan had been abandoned",
    "called for an independent inquiry into the matter",
];

/// splitmix64: small, fast, and the same everywhere.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(super) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}
