//! One progress line for every heavy stage, so that a long run says how far
//! it is and when it will end, wherever its stderr goes: on a terminal a
//! live line redrawn in place (indicatif); to a file or a pipe (make's
//! output captured, Slurm logs) a plain timestamped line every
//! `RCIC_PROGRESS_SECS` seconds (default 30; 0 = every update) and one at
//! the end, so logs stay readable. Hidden under `-q` (the caller passes
//! whether the log shows progress lines). Safe to advance from several
//! threads.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::log::timestamp;

/// The environment variable that sets the seconds between plain lines.
pub const ENV_SECS: &str = "RCIC_PROGRESS_SECS";

/// A progress line over `total` units of work.
#[derive(Debug)]
pub struct Progress {
    label: String,
    unit: &'static str,
    total: u64,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    Hidden,
    Bar(ProgressBar),
    Lines(Lines),
}

/// The plain-line mode's state.
#[derive(Debug)]
struct Lines {
    start: Instant,
    every: Duration,
    pos: AtomicU64,
    /// When the last line was printed, the message to show, and the
    /// count the last line showed.
    last: Mutex<(Instant, String, Option<u64>)>,
}

impl Progress {
    /// A progress line `label` over `total` `unit`s; `show`: whether the
    /// log shows progress (false under `-q`).
    pub fn new(label: impl Into<String>, total: u64, unit: &'static str, show: bool) -> Self {
        let label = label.into();
        let mode = if !show {
            Mode::Hidden
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            let template = format!(
                "{{prefix}} {{bar:30}} {{pos}}/{{len}} {unit}, {{per_sec}}, eta {{eta}} {{msg}}"
            );
            bar.set_style(ProgressStyle::with_template(&template).expect("progress template"));
            bar.set_prefix(label.clone());
            Mode::Bar(bar)
        } else {
            let now = Instant::now();
            Mode::Lines(Lines {
                start: now,
                every: every(),
                pos: AtomicU64::new(0),
                last: Mutex::new((now, String::new(), None)),
            })
        };
        Progress {
            label,
            unit,
            total,
            mode,
        }
    }

    /// A progress that shows nothing.
    pub fn hidden() -> Self {
        Progress::new("", 0, "", false)
    }

    /// `n` more units done.
    pub fn inc(&self, n: u64) {
        match &self.mode {
            Mode::Hidden => {}
            Mode::Bar(b) => b.inc(n),
            Mode::Lines(l) => {
                let pos = l.pos.fetch_add(n, Ordering::Relaxed) + n;
                self.maybe_print(l, pos, false);
            }
        }
    }

    /// The text shown after the counts (loss, accuracy, a run's ETA).
    pub fn set_message(&self, msg: impl Into<String>) {
        let msg = msg.into();
        match &self.mode {
            Mode::Hidden => {}
            Mode::Bar(b) => b.set_message(msg),
            Mode::Lines(l) => l.last.lock().expect("progress lock").1 = msg,
        }
    }

    /// Ends the line: the bar is cleared; in plain mode the final counts
    /// are printed.
    pub fn finish(&self) {
        match &self.mode {
            Mode::Hidden => {}
            Mode::Bar(b) => b.finish_and_clear(),
            Mode::Lines(l) => self.maybe_print(l, l.pos.load(Ordering::Relaxed), true),
        }
    }

    fn maybe_print(&self, l: &Lines, pos: u64, last: bool) {
        let mut g = l.last.lock().expect("progress lock");
        let now = Instant::now();
        let due = now.duration_since(g.0) >= l.every || pos >= self.total;
        // The end is said once: finish() after the last count was shown
        // prints nothing more.
        if (!last && !due) || (last && g.2 == Some(pos)) {
            return;
        }
        g.0 = now;
        g.2 = Some(pos);
        let line = plain_line(
            &self.label,
            self.unit,
            pos,
            self.total,
            now.duration_since(l.start),
            &g.1,
        );
        eprintln!("{} {line}", timestamp());
    }
}

/// Seconds between plain lines, from the environment (default 30).
fn every() -> Duration {
    let secs = std::env::var(ENV_SECS)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(30.0);
    Duration::from_secs_f64(secs)
}

/// `label: pos/total unit (pct%), rate unit/s, eta D[, message]`.
pub fn plain_line(
    label: &str,
    unit: &str,
    pos: u64,
    total: u64,
    elapsed: Duration,
    message: &str,
) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { pos as f64 / secs } else { 0.0 };
    let pct = if total > 0 {
        100.0 * pos as f64 / total as f64
    } else {
        100.0
    };
    let eta = if rate > 0.0 {
        duration_text(total.saturating_sub(pos) as f64 / rate)
    } else {
        "?".to_string()
    };
    let mut line =
        format!("{label}: {pos}/{total} {unit} ({pct:.0}%), {rate:.1} {unit}/s, eta {eta}");
    if !message.is_empty() {
        line.push_str(", ");
        line.push_str(message);
    }
    line
}

/// Seconds as `1d02h`, `3h05m`, `4m07s` or `9s`.
pub fn duration_text(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_say_counts_rate_and_eta() {
        let l = plain_line("predict", "sites", 250, 1000, Duration::from_secs(5), "");
        assert_eq!(l, "predict: 250/1000 sites (25%), 50.0 sites/s, eta 15s");
        let l = plain_line("epoch 3/130", "batches", 0, 10, Duration::ZERO, "loss 0.5");
        assert_eq!(
            l,
            "epoch 3/130: 0/10 batches (0%), 0.0 batches/s, eta ?, loss 0.5"
        );
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration_text(9.4), "9s");
        assert_eq!(duration_text(247.0), "4m07s");
        assert_eq!(duration_text(3.0 * 3600.0 + 300.0), "3h05m");
        assert_eq!(duration_text(93_600.0), "1d02h");
    }
}
