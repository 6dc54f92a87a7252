//! Month names as bulletins write them (AP style: `NOV.`, `JUNE`, `SEPT.`) and the
//! rule that gives a year to a dateline that has none.

use jiff::civil::Date;

/// A calendar month, parsed from and written in bulletin style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i8);

/// The one table of month names: the full English name and the AP style of
/// bulletins (five months are never abbreviated; the rest take a full stop). Every
/// other form is derived from it: upper case for datelines, lower case for URL
/// paths, and both for parsing.
const NAMES: [(&str, &str); 12] = [
    ("January", "Jan."),
    ("February", "Feb."),
    ("March", "March"),
    ("April", "April"),
    ("May", "May"),
    ("June", "June"),
    ("July", "July"),
    ("August", "Aug."),
    ("September", "Sept."),
    ("October", "Oct."),
    ("November", "Nov."),
    ("December", "Dec."),
];

impl Month {
    /// January to December, in order.
    pub const ALL: [Month; 12] = [
        Month(1),
        Month(2),
        Month(3),
        Month(4),
        Month(5),
        Month(6),
        Month(7),
        Month(8),
        Month(9),
        Month(10),
        Month(11),
        Month(12),
    ];

    /// From 1..=12.
    pub fn new(number: i8) -> Option<Month> {
        (1..=12).contains(&number).then_some(Month(number))
    }

    /// The month of a date.
    pub fn of(date: Date) -> Month {
        Month(date.month())
    }

    /// Accepts full names and common abbreviations in any case, with or without a
    /// full stop: `APRIL`, `Nov.`, `SEPT`, `sep.`, `Feb`.
    pub fn parse(word: &str) -> Option<Month> {
        let word = word.strip_suffix('.').unwrap_or(word);
        if word.len() < 3 || word.len() > 9 || !word.is_ascii() {
            return None;
        }
        if word.eq_ignore_ascii_case("sept") {
            return Some(Month(9));
        }
        NAMES
            .iter()
            .position(|(full, _)| {
                // Either the full name or its three-letter abbreviation.
                full.eq_ignore_ascii_case(word)
                    || (word.len() == 3
                        && full
                            .get(..3)
                            .is_some_and(|abbr| abbr.eq_ignore_ascii_case(word)))
            })
            .map(|i| Month(i as i8 + 1))
    }

    /// 1..=12.
    pub fn number(self) -> i8 {
        self.0
    }

    /// `January`, `November`: the full name.
    pub fn name(self) -> &'static str {
        NAMES[self.index()].0
    }

    /// `Nov.`, `July`: as in issue footers.
    pub fn ap(self) -> &'static str {
        NAMES[self.index()].1
    }

    /// `NOV.`, `JULY`: as in datelines.
    pub fn ap_upper(self) -> String {
        self.ap().to_ascii_uppercase()
    }

    /// 0..12, into [`NAMES`].
    fn index(self) -> usize {
        self.0 as usize - 1
    }
}

/// `July 22 2021`, `Nov. 4 2021`: the date as an issue footer writes it.
pub fn format_issue_date(date: Date) -> String {
    let month = Month::of(date);
    format!("{} {} {}", month.ap(), date.day(), date.year())
}

/// The latest date with this month and day that falls on or before `issue_date`:
/// a DEC. 30 dateline in a Jan. 5 issue belongs to the previous year. Looks back
/// up to eight years so that FEB. 29 finds a leap year; `None` if the day never
/// exists (FEB. 30).
pub fn infer_year(month: i8, day: i8, issue_date: Date) -> Option<Date> {
    (0..8).find_map(|back| {
        let year = issue_date.year().checked_sub(back)?;
        let candidate = Date::new(year, month, day).ok()?;
        (candidate <= issue_date).then_some(candidate)
    })
}

/// With no issue date, the copyright year decides; `None` if the day does not
/// exist in that year.
pub fn infer_year_from_copyright(month: i8, day: i8, copyright_year: i16) -> Option<Date> {
    Date::new(copyright_year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn months_in_every_spelling() {
        for (word, n) in [
            ("APRIL", 4),
            ("NOV.", 11),
            ("FEB.", 2),
            ("JUNE", 6),
            ("JULY", 7),
            ("Sept.", 9),
            ("SEP", 9),
            ("december", 12),
            ("May", 5),
        ] {
            assert_eq!(Month::parse(word).map(Month::number), Some(n), "{word}");
        }
        for bad in ["JULE", "JU", "", "NOVEMBERR", "Ma.", "ÄPRIL"] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ap_style() {
        assert_eq!(format_issue_date(date(2021, 11, 4)), "Nov. 4 2021");
        assert_eq!(format_issue_date(date(2021, 7, 22)), "July 22 2021");
        assert_eq!(Month::new(9).map(Month::ap_upper).as_deref(), Some("SEPT."));
        let ap: Vec<&str> = Month::ALL.iter().map(|m| m.ap()).collect();
        assert_eq!(
            ap,
            [
                "Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
                "Nov.", "Dec."
            ]
        );
    }

    #[test]
    fn every_form_comes_from_the_one_table() {
        for (i, month) in Month::ALL.into_iter().enumerate() {
            assert_eq!(month.number() as usize, i + 1);
            assert_eq!(Month::new(month.number()), Some(month));
            assert_eq!(Month::of(date(2021, month.number(), 1)), month);
            assert_eq!(Month::parse(month.name()), Some(month));
            assert_eq!(
                Month::parse(&month.name().to_ascii_lowercase()),
                Some(month)
            );
            assert_eq!(Month::parse(month.ap()), Some(month));
            assert_eq!(Month::parse(&month.ap_upper()), Some(month));
            // AP style: short names in full, September as Sept., the rest cut to
            // three letters and a full stop.
            let name = month.name();
            let expected = match name {
                "September" => "Sept.".to_owned(),
                _ if name.len() <= 5 => name.to_owned(),
                _ => format!("{}.", &name[..3]),
            };
            assert_eq!(month.ap(), expected);
        }
        assert_eq!(Month::ALL[6].name(), "July");
    }

    #[test]
    fn year_inference() {
        assert_eq!(
            infer_year(7, 28, date(2020, 7, 31)),
            Some(date(2020, 7, 28))
        );
        assert_eq!(
            infer_year(7, 31, date(2020, 7, 31)),
            Some(date(2020, 7, 31))
        );
        assert_eq!(
            infer_year(12, 30, date(2022, 1, 5)),
            Some(date(2021, 12, 30))
        );
        assert_eq!(infer_year(2, 29, date(2023, 3, 1)), Some(date(2020, 2, 29)));
        assert_eq!(infer_year(2, 30, date(2023, 3, 1)), None);
        assert_eq!(
            infer_year_from_copyright(6, 22, 2020),
            Some(date(2020, 6, 22))
        );
        assert_eq!(infer_year_from_copyright(2, 29, 2021), None);
    }
}
