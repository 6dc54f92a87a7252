//! Parsing the lines that carry data: the dateline (places, date, credit, first
//! paragraph), the issue footer with its date, and the copyright footer. Each
//! result is positioned: an error carries the byte offset it belongs at.

use bulletin_core::{Copyright, Date, Month, place_display_name};

use super::DatelineDate;
use super::lines::{is_space, offset, strip_dash, strip_prefix_ci, trim};

/// A result whose error carries the byte offset it belongs at.
pub(super) type Positioned<T> = Result<T, (usize, String)>;

pub(super) struct ParsedDateline<'a> {
    pub(super) places: Vec<String>,
    pub(super) date: DatelineDate,
    pub(super) credit: String,
    pub(super) first_paragraph: &'a str,
}

const DATELINE_FORM: &str =
    "expected a dateline such as “BAKU/JULY 18 2021 (The Bulletin) — first paragraph”";

pub(super) fn parse_dateline(raw: &str) -> Positioned<ParsedDateline<'_>> {
    let line = trim(raw);
    let Some(open) = line.find('(') else {
        return Err((
            offset(raw, line),
            format!("unreadable dateline: no “(CREDIT)”; {DATELINE_FORM}"),
        ));
    };
    let Some(close_rel) = line[open..].find(')') else {
        return Err((
            offset(raw, line) + open,
            format!("unreadable dateline: the credit's “(” is never closed; {DATELINE_FORM}"),
        ));
    };
    let close = open + close_rel;
    let credit = trim(&line[open + 1..close]);
    if credit.is_empty() {
        return Err((
            offset(raw, line) + open,
            "unreadable dateline: the credit in parentheses is empty".into(),
        ));
    }
    let head = &line[..open];
    let mut segments: Vec<&str> = head.split('/').collect();
    let date_part = segments.pop().unwrap_or("");
    let mut places = Vec::with_capacity(segments.len());
    for seg in segments.iter().flat_map(|s| s.split(',')) {
        let place = trim(seg);
        if place.is_empty() {
            return Err((
                offset(raw, seg),
                format!("unreadable dateline: an empty place name; {DATELINE_FORM}"),
            ));
        }
        places.push(place_display_name(place));
    }
    // "BAKU, JULY 18 2021": commas also separate places, as long as what stands
    // before them is not already the date ("JULY 18, 2021").
    let mut date_part = date_part;
    while let Some((place, rest)) = date_part.split_once(',') {
        let first_word = date_part
            .split(is_space)
            .find(|w| !w.is_empty())
            .unwrap_or("");
        if Month::parse(first_word).is_some() || trim(place).is_empty() {
            break;
        }
        places.push(place_display_name(trim(place)));
        date_part = rest;
    }
    let date = parse_month_day_year(raw, date_part)?;
    let after = trim(&line[close + 1..]);
    let first = after
        .strip_prefix('\u{2014}')
        .or_else(|| after.strip_prefix('\u{2013}'))
        .or_else(|| after.strip_prefix("--"))
        .or_else(|| after.strip_prefix('-'));
    let Some(first) = first else {
        return Err((
            offset(raw, after),
            "unreadable dateline: expected a dash (—) after the credit".into(),
        ));
    };
    Ok(ParsedDateline {
        places,
        date,
        credit: credit.to_owned(),
        first_paragraph: trim(first),
    })
}

/// `JULY 18 2021`, `NOV. 2`, `Feb 28, 2021`.
pub(super) fn parse_month_day_year(raw: &str, part: &str) -> Positioned<DatelineDate> {
    let mut words = part.split(is_space).filter(|w| !w.is_empty());
    let Some(month_word) = words.next() else {
        return Err((
            offset(raw, part),
            format!("unreadable dateline: no date before the credit; {DATELINE_FORM}"),
        ));
    };
    let at = offset(raw, month_word);
    let Some(month) = Month::parse(month_word) else {
        return Err((
            at,
            format!(
                "unknown month “{month_word}” in the dateline (expected e.g. JAN., FEB., MARCH, APRIL, SEPT.)"
            ),
        ));
    };
    let Some(day_word) = words.next() else {
        return Err((at, "unreadable dateline: the month has no day".into()));
    };
    let day_digits = day_word.strip_suffix(',').unwrap_or(day_word);
    let day = match day_digits.parse::<i8>() {
        Ok(d) if (1..=31).contains(&d) && day_digits.bytes().all(|b| b.is_ascii_digit()) => d,
        _ => {
            return Err((
                offset(raw, day_word),
                format!("unreadable day “{day_word}” in the dateline"),
            ));
        }
    };
    let year = match words.next() {
        None => None,
        Some(y) => match y.parse::<i16>() {
            Ok(v) if y.len() == 4 && (1000..=9999).contains(&v) => Some(v),
            _ => {
                return Err((
                    offset(raw, y),
                    format!("unreadable year “{y}” in the dateline"),
                ));
            }
        },
    };
    if let Some(extra) = words.next() {
        return Err((
            offset(raw, extra),
            format!("unexpected “{extra}” in the dateline's date; {DATELINE_FORM}"),
        ));
    }
    if Date::new(2000, month.number(), day).is_err() {
        // Not even in a leap year: FEB. 30, APRIL 31.
        return Err((
            at,
            format!("impossible date: {} {day} does not exist", month.ap_upper()),
        ));
    }
    Ok(DatelineDate {
        month,
        day,
        year,
        at,
    })
}

const ISSUE_FORM: &str =
    "expected “— This story was published in issue N of the PUBLICATION, on Month D YYYY”";

/// `— This story was [first ]published in issue N of the PUBLICATION[, [published ]on DATE][.]`
pub(super) fn parse_issue_line(
    raw: &str,
    text: &str,
) -> Positioned<(u32, Option<Date>, bool, String)> {
    let fail = |at: &str, what: &str| Err((offset(raw, at), format!("{what}; {ISSUE_FORM}")));
    let body = strip_dash(text);
    let Some(rest) = strip_prefix_ci(body, "This story was ") else {
        return fail(body, "unreadable issue footer");
    };
    let (first, rest) = match strip_prefix_ci(rest, "first ") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let Some(rest) = strip_prefix_ci(rest, "published in issue ") else {
        return fail(rest, "unreadable issue footer");
    };
    // "issue 565", also "issue No. 565" and "issue #565".
    let rest = strip_prefix_ci(rest, "No. ")
        .or_else(|| rest.strip_prefix('#'))
        .unwrap_or(rest);
    let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let number = match rest[..digits_len].parse::<u32>() {
        Ok(n) if n > 0 => n,
        _ => return fail(rest, "unreadable issue number"),
    };
    let rest = &rest[digits_len..];
    let Some(rest) = strip_prefix_ci(rest, " of ") else {
        return fail(rest, "expected “of the PUBLICATION” after the issue number");
    };
    let rest = trim(rest);
    let rest = rest.strip_suffix('.').map(trim).unwrap_or(rest);
    // The date follows the last " on " (", on", ", published on", or no comma at
    // all) when what comes next has a date's shape (month, day, four-digit year);
    // otherwise " on " belongs to the name ("the News on May Day").
    let looks_like_date = |text: &str| {
        let words: Vec<&str> = text.split(is_space).filter(|w| !w.is_empty()).collect();
        matches!(words[..], [a, b, y] if (Month::parse(a).is_some() || Month::parse(b).is_some())
            && y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
    };
    let (publication, date) = match rest.rfind(" on ") {
        Some(i) if looks_like_date(&rest[i + 4..]) => {
            let name = rest[..i].trim_end_matches(is_space);
            let name = name
                .strip_suffix("published")
                .or_else(|| name.strip_suffix("Published"))
                .unwrap_or(name);
            (name, Some(&rest[i + 4..]))
        }
        _ => (rest, None),
    };
    let publication = trim(publication).trim_end_matches(',');
    let publication = strip_prefix_ci(publication, "the ").unwrap_or(publication);
    let publication = trim(publication);
    if publication.is_empty() {
        return fail(rest, "the issue footer names no publication");
    }
    let date = match date {
        None => None,
        Some(d) => Some(parse_footer_date(raw, d)?),
    };
    Ok((number, date, first, publication.to_owned()))
}

/// `July 22 2021`, `Nov. 4 2021`, `June 23, 2020`.
pub(super) fn parse_footer_date(raw: &str, text: &str) -> Positioned<Date> {
    let words: Vec<&str> = text.split(is_space).filter(|w| !w.is_empty()).collect();
    // "July 22 2021", or day first: "22 July 2021".
    let words = match words[..] {
        [d, m, y] if d.bytes().all(|b| b.is_ascii_digit()) && Month::parse(m).is_some() => {
            vec![m, d, y]
        }
        _ => words,
    };
    let [m, d, y] = words[..] else {
        return Err((
            offset(raw, text),
            format!(
                "unreadable issue date “{}” (expected e.g. July 22 2021)",
                trim(text)
            ),
        ));
    };
    let Some(month) = Month::parse(m) else {
        return Err((
            offset(raw, m),
            format!("unknown month “{m}” in the issue date"),
        ));
    };
    let d_digits = d.strip_suffix(',').unwrap_or(d);
    let (Ok(day), Ok(year)) = (d_digits.parse::<i8>(), y.parse::<i16>()) else {
        return Err((
            offset(raw, d),
            format!(
                "unreadable issue date “{}” (expected e.g. July 22 2021)",
                trim(text)
            ),
        ));
    };
    // As in datelines and copyright lines: four digits, from 1000 ("0221"
    // would be written back as "221", which no reader takes).
    if y.len() != 4 || year < 1000 {
        return Err((
            offset(raw, y),
            format!("unreadable year “{y}” in the issue date"),
        ));
    }
    Date::new(year, month.number(), day).map_err(|_| {
        (
            offset(raw, m),
            format!(
                "impossible issue date: {} {day} {year} does not exist",
                month.ap()
            ),
        )
    })
}

/// `— Copyright the PUBLICATION YEAR` (also `Copyright ©`, `(c)`).
pub(super) fn parse_copyright(raw: &str, text: &str) -> Positioned<Copyright> {
    const FORM: &str = "expected “— Copyright the PUBLICATION YEAR”";
    let body = strip_dash(text);
    let Some(rest) = strip_prefix_ci(body, "Copyright ") else {
        return Err((
            offset(raw, body),
            format!("unreadable copyright footer; {FORM}"),
        ));
    };
    let rest = trim(rest);
    let rest = rest
        .strip_prefix('\u{a9}')
        .or_else(|| strip_prefix_ci(rest, "(c)"))
        .map(trim)
        .unwrap_or(rest);
    let rest = rest.strip_suffix('.').map(trim).unwrap_or(rest);
    let Some(space) = rest.rfind(is_space) else {
        return Err((
            offset(raw, rest),
            format!("the copyright footer has no year; {FORM}"),
        ));
    };
    let year_word = &rest[space..].trim_start_matches(is_space);
    let year = match year_word.parse::<i16>() {
        Ok(y) if year_word.len() == 4 && y >= 1000 => y,
        _ => {
            return Err((
                offset(raw, year_word),
                format!("unreadable copyright year “{year_word}”; {FORM}"),
            ));
        }
    };
    let holder = trim(rest[..space].trim_end_matches(|c| c == ',' || is_space(c)));
    let holder = strip_prefix_ci(holder, "the ").map(trim).unwrap_or(holder);
    if holder.is_empty() {
        return Err((
            offset(raw, rest),
            format!("the copyright footer names no holder; {FORM}"),
        ));
    }
    Ok(Copyright {
        holder: holder.to_owned(),
        year,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dateline_forms() {
        let d = parse_dateline("BAKU/ALMATY/JULY 18 2021 (The Bulletin) \u{2013}Officials said")
            .ok()
            .unwrap();
        assert_eq!(d.places, ["Baku", "Almaty"]);
        assert_eq!(
            (d.date.month.number(), d.date.day, d.date.year),
            (7, 18, Some(2021))
        );
        assert_eq!(d.credit, "The Bulletin");
        assert_eq!(d.first_paragraph, "Officials said");
        let d = parse_dateline("FEB. 28 2021\u{a0} (The Bulletin) \u{2014}\u{a0} Police")
            .ok()
            .unwrap();
        assert_eq!(d.first_paragraph, "Police");
        let d = parse_dateline("JULY 28 (The Bulletin) \u{2014} x")
            .ok()
            .unwrap();
        assert_eq!(d.date.year, None);
        let d = parse_dateline("BAKU, TBILISI/JULY 18, 2021 (The Bulletin) \u{2014} x")
            .ok()
            .unwrap();
        assert_eq!(d.places, ["Baku", "Tbilisi"]);
        assert_eq!(
            (d.date.month.number(), d.date.day, d.date.year),
            (7, 18, Some(2021))
        );
        let e = parse_dateline("JULE 28 2021 (The Bulletin) \u{2014} x")
            .err()
            .unwrap();
        assert_eq!(e.0, 0);
        assert!(e.1.contains("unknown month"), "{}", e.1);
        let e = parse_dateline("ALMATY/FEB. 30 2021 (The Bulletin) \u{2014} x")
            .err()
            .unwrap();
        assert_eq!(e.0, 7);
        assert!(parse_dateline("no dateline here").is_err());
        assert!(parse_dateline("JULY 18 2021 (The Bulletin) no dash").is_err());
    }

    #[test]
    fn footer_forms() {
        let t = "\u{2014} This story was first published in issue 451 of the Central Asia & South Caucasus Bulletin, published on June 23 2020";
        let (n, d, first, p) = parse_issue_line(t, t).ok().unwrap();
        assert_eq!((n, d, first), (451, Date::new(2020, 6, 23).ok(), true));
        assert_eq!(p, "Central Asia & South Caucasus Bulletin");
        let t =
            "\u{2014} This story was published in issue 455 of the X Bulletin, on July 31 2020.";
        assert_eq!(
            parse_issue_line(t, t).ok().unwrap().1,
            Date::new(2020, 7, 31).ok()
        );
        let t = "\u{2014} This story was first published in issue 471 of the X Bulletin";
        assert_eq!(parse_issue_line(t, t).ok().unwrap().1, None);
        // A year before 1000 is refused, as in datelines (found by fuzzing:
        // "0221" read as 221 was written back as "221").
        let t = "\u{2014} This story was published in issue 506 of the X Bulletin, on Nov. 4 0221";
        let err = parse_issue_line(t, t).err().unwrap();
        assert!(err.1.contains("unreadable year “0221”"), "{}", err.1);
        // No comma before "on", "No." and "#", a name with " on " in it.
        let t =
            "\u{2014} This story was published in issue No. 12 of the X Bulletin on Jan. 5 2022";
        let (n, d, _, p) = parse_issue_line(t, t).ok().unwrap();
        assert_eq!(
            (n, d, p.as_str()),
            (12, Date::new(2022, 1, 5).ok(), "X Bulletin")
        );
        let t =
            "\u{2014} This story was published in issue #12 of the News on Sunday, on Jan. 5 2022";
        let (n, d, _, p) = parse_issue_line(t, t).ok().unwrap();
        assert_eq!(
            (n, d, p.as_str()),
            (12, Date::new(2022, 1, 5).ok(), "News on Sunday")
        );
        let t = "\u{2014} This story was published in issue 12 of the X, on 23 April 2024";
        assert_eq!(
            parse_issue_line(t, t).ok().unwrap().1,
            Date::new(2024, 4, 23).ok()
        );
        let t = "\u{2014} This story was published in issue 12 of the News on Sunday";
        assert_eq!(parse_issue_line(t, t).ok().unwrap().3, "News on Sunday");
        let t = "\u{2014} This story was published in issue 12 of the News on May Day";
        assert_eq!(parse_issue_line(t, t).ok().unwrap().1, None);
        let t = "\u{2014} This story was published in issue 5 of the X, on Nov. 31 2021";
        assert!(parse_issue_line(t, t).is_err());
        let t = "\u{2014} Copyright the Central Asia & South Caucasus Bulletin 2024";
        let c = parse_copyright(t, t).ok().unwrap();
        assert_eq!(
            (c.holder.as_str(), c.year),
            ("Central Asia & South Caucasus Bulletin", 2024)
        );
        let t = "\u{2014} Copyright \u{a9} the Example Bulletin, 2024.";
        let c = parse_copyright(t, t).ok().unwrap();
        assert_eq!((c.holder.as_str(), c.year), ("Example Bulletin", 2024));
    }
}
