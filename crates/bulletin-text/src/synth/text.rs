//! Small pieces of text: numbers, percentages, amounts, names, and the random
//! picks they need.

use super::rng::Rng;
use super::story::{Amount, Pct, Person};
use super::vocabulary::Country;

pub(super) fn pct(rng: &mut Rng) -> Pct {
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
pub(super) fn amount(rng: &mut Rng, millions_per_10k: u64, max_millions: u64) -> Amount {
    if rng.chance(millions_per_10k) {
        Amount::Millions(rng.range(5, max_millions))
    } else {
        Amount::Billions(rng.range(1, 9), rng.range(1, 9))
    }
}

pub(super) fn push_pct(buf: &mut Vec<u8>, p: Pct) {
    push_u64(buf, p.0);
    if let Some(d) = p.1 {
        buf.push(b'.');
        push_u64(buf, d);
    }
    buf.push(b'%');
}

/// A town of `c`, the capital half of the time.
pub(super) fn pick_town(rng: &mut Rng, c: &Country) -> usize {
    if rng.chance(5000) {
        0
    } else {
        rng.index(c.places.len())
    }
}

/// A pool index not yet in `mask` (pools have at most 64 entries).
pub(super) fn pick_unused(rng: &mut Rng, len: usize, mask: u64) -> Option<usize> {
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
pub(super) fn mistype(number: u64, rng: &mut Rng) -> u64 {
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

pub(super) fn full_name(buf: &mut Vec<u8>, p: &Person) {
    buf.extend_from_slice(p.first.as_bytes());
    buf.push(b' ');
    surname(buf, p);
}

pub(super) fn short_name(buf: &mut Vec<u8>, p: &Person) {
    buf.extend_from_slice(if p.female { b"Ms " } else { b"Mr " });
    surname(buf, p);
}

pub(super) fn surname(buf: &mut Vec<u8>, p: &Person) {
    buf.extend_from_slice(p.surname.as_bytes());
    if p.female && (p.surname.ends_with("ov") || p.surname.ends_with("ev")) {
        buf.push(b'a');
    }
}

pub(super) fn push_upper(buf: &mut Vec<u8>, s: &str) {
    buf.extend(s.bytes().map(|b| b.to_ascii_uppercase()));
}

pub(super) fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
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

pub(super) fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// `12345` → `12,345`.
pub(super) fn push_grouped(buf: &mut Vec<u8>, n: u64) {
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
