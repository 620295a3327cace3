//! Run log: timestamped lines to stderr (above the progress bar) and kept in
//! memory, to be written into the artifact as `preprocess.log`.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Default)]
pub struct Log {
    lines: Mutex<String>,
    quiet: bool,
}

pub use rcic_core::clock::timestamp;

impl Log {
    pub fn new(quiet: bool) -> Self {
        Self {
            lines: Mutex::new(String::new()),
            quiet,
        }
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
            ProgressStyle::with_template(
                "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} sites {per_sec} eta {eta}",
            )
            .expect("template")
            .progress_chars("=> "),
        );
        pb.set_message(what.to_string());
        pb
    }
}
