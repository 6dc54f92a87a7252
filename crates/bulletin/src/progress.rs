//! Progress for long jobs: a bar on a terminal, plain log lines otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Reports how far a job has got. Cheap to call often.
pub struct Progress {
    label: String,
    total: Option<u64>,
    bar: Option<ProgressBar>,
    last_line: Mutex<Instant>,
}

/// Plain lines are written at most this often.
const LOG_EVERY: Duration = Duration::from_secs(2);

impl Progress {
    /// `total` in bytes when known.
    pub fn bytes(label: &str, total: Option<u64>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let template = if total.is_some() {
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            } else {
                "{msg} {spinner} {bytes} {bytes_per_sec}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.to_owned());
            bar
        });
        Progress {
            label: label.to_owned(),
            total,
            bar,
            last_line: Mutex::new(Instant::now()),
        }
    }

    /// Counts items (stories) towards a known `total`.
    pub fn items(label: &str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.to_owned());
            bar
        });
        Progress {
            label: label.to_owned(),
            total: None,
            bar,
            last_line: Mutex::new(Instant::now()),
        }
    }

    /// For [`Progress::items`]: `done` of `total` items.
    pub fn set_items(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() >= LOG_EVERY || done == total {
            *last = Instant::now();
            eprintln!("{}: {done} of {total} stories", self.label);
        }
    }

    pub fn set(&self, done: u64, stories: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() >= LOG_EVERY {
            *last = Instant::now();
            match self.total {
                Some(t) if t > 0 => eprintln!(
                    "{}: {:.0}% ({done} of {t} bytes, {stories} stories)",
                    self.label,
                    done as f64 * 100.0 / t as f64
                ),
                _ => eprintln!("{}: {done} bytes, {stories} stories", self.label),
            }
        }
    }

    /// Counts messages (or other items) towards a `total` that may grow, with
    /// a word of detail beside the bar (`sent, failed, retrying`).
    pub fn counter(label: &str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_owned());
            bar
        });
        Progress {
            label: label.to_owned(),
            total: None,
            bar,
            last_line: Mutex::new(Instant::now()),
        }
    }

    /// For [`Progress::counter`]: `done` of `total`, and the detail. Without
    /// a terminal, a plain line every few seconds and one at the end.
    pub fn set_count(&self, done: u64, total: u64, detail: &str) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(detail.to_owned());
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() >= LOG_EVERY || done == total {
            *last = Instant::now();
            eprintln!("{}: {done} of {total} ({detail})", self.label);
        }
    }

    /// Prints a line without tearing the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
