//! Run log: timestamped lines to stderr (above the progress bar) and kept in
//! memory, to be written into the artifact as `preprocess.log`.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Default)]
pub struct Log {
    lines: Mutex<String>,
    quiet: bool,
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of now.
pub fn timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

impl Log {
    pub fn new(quiet: bool) -> Self {
        Self { lines: Mutex::new(String::new()), quiet }
    }

    /// Logs one line (to stderr unless quiet; always to the kept text).
    pub fn line(&self, msg: impl AsRef<str>) {
        let line = format!("[{}] {}", timestamp(), msg.as_ref());
        if !self.quiet {
            eprintln!("{line}");
        }
        let mut l = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        l.push_str(&line);
        l.push('\n');
    }

    pub fn text(&self) -> String {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A sites progress bar showing sites/s (hidden when quiet or when
    /// stderr is not a terminal).
    pub fn progress(&self, total: u64, what: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} sites {per_sec} eta {eta}")
                .expect("template")
                .progress_chars("=> "),
        );
        pb.set_message(what.to_string());
        pb
    }
}
