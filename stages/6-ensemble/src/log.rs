//! Log lines with UTC timestamps, to stderr as they happen and kept for the
//! artifact's log file.

#[derive(Debug, Default)]
pub struct Logger {
    pub lines: Vec<String>,
    /// Do not print (tests of the library).
    pub quiet: bool,
}

impl Logger {
    pub fn info(&mut self, msg: &str) {
        let line = format!("{} INFO: {msg}", rcic_core::clock::timestamp());
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
