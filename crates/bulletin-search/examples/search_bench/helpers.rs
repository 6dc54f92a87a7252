//! Helpers: units, sizes, CPU time, and the rows every system indexes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bulletin_core::{Story, gazetteer};
use bulletin_store::{Store, StoryQuery};

use crate::{BATCH, Result};

pub(crate) fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(crate) fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

pub(crate) fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => dir_size(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

pub(crate) fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// CPU seconds this process has used (user + system), from /proc.
pub(crate) fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime is the 14th
    // field of the line, stime the 15th.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // rest starts at field 3 (state): utime is field 14 → index 11.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU time of this process and of the others, from a start.
pub(crate) struct CpuWatch {
    wall: Instant,
    machine: f64,
    own: f64,
}

impl CpuWatch {
    pub(crate) fn start() -> CpuWatch {
        CpuWatch {
            wall: Instant::now(),
            machine: machine_cpu_seconds(),
            own: cpu_seconds(),
        }
    }

    /// `while timed (12.3 s): this process 20.1 CPU-s, other processes 0.4 CPU-s`
    pub(crate) fn note(&self) -> String {
        let own = cpu_seconds() - self.own;
        let others = (machine_cpu_seconds() - self.machine - own).max(0.0);
        format!(
            "CPU over {:.1} s: this process {own:.1} CPU-s, other processes {others:.1} CPU-s \
             (the database server for PostgreSQL; more elsewhere means the figures were disturbed)",
            secs(self.wall.elapsed())
        )
    }
}

/// CPU seconds all processes of the machine have used (busy time from /proc/stat).
fn machine_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    (at(0) + at(1) + at(2) + at(5) + at(6) + at(7)) / 100.0
}

/// `2021-07-18` as `20210718`, as bulletin's index keeps it.
fn day_number(story: &Story) -> i64 {
    let d = story.dateline.date;
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// What every system indexes of a story: the same as bulletin's document
/// (headline; the body a visitor may read; dateline places and country names).
pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) headline: String,
    pub(crate) body: String,
    pub(crate) meta: String,
    /// The first country code (the filter column the issue asks for).
    pub(crate) country: String,
    /// All the story's country codes, space-separated (what bulletin filters on).
    pub(crate) countries: String,
    pub(crate) day: i64,
}

fn row_of(id: i64, story: &Story) -> Row {
    let mut meta = story.dateline.places.join(" ");
    for code in &story.countries {
        if let Some(country) = gazetteer().country(code) {
            meta.push(' ');
            meta.push_str(&country.name);
        }
    }
    let codes: Vec<String> = story
        .countries
        .iter()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Row {
        id,
        headline: story.headline.clone(),
        body: bulletin_core::render::visible_body(story, false).join("\n\n"),
        meta,
        country: codes.first().cloned().unwrap_or_default(),
        countries: codes.join(" "),
        day: day_number(story),
    }
}

/// Reads the whole store, newest first, in pages of [`BATCH`], into a channel of
/// rows (so that a peer's loading overlaps the reading, as bulletin's rebuild
/// overlaps reading and indexing).
pub(crate) fn read_rows(store: Arc<dyn Store>) -> tokio::sync::mpsc::Receiver<Result<Vec<Row>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        let mut query = StoryQuery {
            limit: BATCH as u32,
            ..StoryQuery::default()
        };
        let mut id = 0i64;
        loop {
            let page = match store.stories(&query).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            let rows: Vec<Row> = page
                .stories
                .iter()
                .map(|s| {
                    id += 1;
                    row_of(id, s)
                })
                .collect();
            if tx.send(Ok(rows)).await.is_err() {
                return;
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return,
            }
        }
    });
    rx
}
