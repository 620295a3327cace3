//! Log lines with UTC timestamps, to stderr as they happen and kept for the
//! artifact's log file.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
pub struct Logger {
    pub lines: Vec<String>,
    /// Do not print (tests of the library).
    pub quiet: bool,
}

impl Logger {
    pub fn info(&mut self, msg: &str) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let s = now.as_secs() % 86_400;
        let line = format!("{:02}:{:02}:{:02}.{:03}:INFO: {msg}", s / 3600, s / 60 % 60, s % 60, now.subsec_millis());
        if !self.quiet {
            eprintln!("{line}");
        }
        self.lines.push(line);
    }

    pub fn text(&self) -> String {
        let mut s = self.lines.join("\n");
        s.push('\n');
        s
    }
}
