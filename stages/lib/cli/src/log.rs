//! The log of every stage: one line format, `TIMESTAMP message` (UTC,
//! `YYYY-MM-DDTHH:MM:SSZ`; warnings as `TIMESTAMP warning: ...`, detail as
//! `TIMESTAMP debug: ...`), to stderr as things happen and, where the stage
//! keeps one, to its log file. What reaches stderr: `-q` only warnings, the
//! default adds progress lines, `-v` adds detail; `RCIC_LOG=quiet|info|debug`
//! sets the default for runs whose command line does not say. Lines can be
//! kept in memory (for a log file published with the output, or attached
//! once the output's folder exists), so a run that fails at start-up leaves
//! no log file behind.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The environment variable that sets the default detail.
pub const ENV: &str = "RCIC_LOG";

/// How much of the log reaches stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Warnings only.
    Quiet,
    /// Warnings and progress lines.
    Info,
    /// Everything, detail included.
    Debug,
}

impl Level {
    /// From `-q`/`-v`, else `RCIC_LOG`, else [`Level::Info`].
    pub fn choose(quiet: bool, verbose: bool) -> Self {
        if quiet {
            Self::Quiet
        } else if verbose {
            Self::Debug
        } else {
            match std::env::var(ENV).as_deref() {
                Ok("quiet") | Ok("warn") | Ok("off") => Self::Quiet,
                Ok("debug") | Ok("verbose") => Self::Debug,
                _ => Self::Info,
            }
        }
    }
}

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn timestamp() -> String {
    format_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    )
}

/// A Unix time in seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_unix(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A stage's log.
#[derive(Debug)]
pub struct Log {
    level: Level,
    /// Lines kept in memory (when asked), until a file is attached.
    kept: Mutex<Option<Vec<u8>>>,
    file: Mutex<Option<File>>,
}

impl Log {
    /// A log printing to stderr as `level` says, keeping nothing.
    pub fn new(level: Level) -> Self {
        Self {
            level,
            kept: Mutex::new(None),
            file: Mutex::new(None),
        }
    }

    /// The same log, also keeping every line (see [`text`](Self::text),
    /// [`attach`](Self::attach)).
    pub fn keeping_lines(self) -> Self {
        *self.kept.lock().expect("log lock") = Some(Vec::new());
        self
    }

    /// Appends to `path`: the lines kept so far first, then every new one.
    pub fn attach(&self, path: &Path) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        if let Some(kept) = self.kept.lock().expect("log lock").take() {
            f.write_all(&kept)?;
        }
        *self.file.lock().expect("log lock") = Some(f);
        Ok(())
    }

    /// The lines kept so far.
    pub fn text(&self) -> String {
        let kept = self.kept.lock().expect("log lock");
        String::from_utf8_lossy(kept.as_deref().unwrap_or_default()).into_owned()
    }

    /// Whether stderr shows progress lines (for progress bars).
    pub fn shows(&self, level: Level) -> bool {
        self.level >= level
    }

    /// A progress line.
    pub fn info(&self, msg: impl AsRef<str>) {
        self.line(Level::Info, "", msg.as_ref());
    }

    /// Something the user should know even under `-q`.
    pub fn warn(&self, msg: impl AsRef<str>) {
        self.line(Level::Quiet, "warning: ", msg.as_ref());
    }

    /// Detail, on stderr with `-v` only (always in the file).
    pub fn debug(&self, msg: impl AsRef<str>) {
        self.line(Level::Debug, "debug: ", msg.as_ref());
    }

    fn line(&self, level: Level, tag: &str, msg: &str) {
        let line = format!("{} {tag}{msg}\n", timestamp());
        if self.level >= level {
            eprint!("{line}");
        }
        if let Some(kept) = self.kept.lock().expect("log lock").as_mut() {
            kept.extend_from_slice(line.as_bytes());
        }
        if let Some(f) = self.file.lock().expect("log lock").as_mut() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_unix(1_795_874_399), "2026-11-28T13:59:59Z");
        assert_eq!(timestamp().len(), 20);
    }

    #[test]
    fn kept_lines_reach_the_file_once_attached() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.log");
        let log = Log::new(Level::Quiet).keeping_lines();
        log.info("first");
        log.debug("detail");
        assert!(!p.exists());
        assert!(log.text().ends_with(" debug: detail\n"));
        log.attach(&p).unwrap();
        log.warn("second");
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].ends_with(" first") && lines[2].ends_with(" warning: second"));
    }

    #[test]
    fn switches_win_over_the_environment() {
        assert_eq!(Level::choose(true, false), Level::Quiet);
        assert_eq!(Level::choose(false, true), Level::Debug);
    }
}
