//! The training log: timestamped lines to stderr and to `NAME.log`, like the
//! reference's logging setup, so a run can be followed live and read later.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

pub struct Log {
    file: Option<Mutex<File>>,
    quiet: bool,
}

impl Log {
    /// Appends to `path` when given.
    pub fn new(path: Option<&Path>, quiet: bool) -> std::io::Result<Self> {
        let file = match path {
            Some(p) => Some(Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(p)?)),
            None => None,
        };
        Ok(Self { file, quiet })
    }

    pub fn info(&self, msg: impl AsRef<str>) {
        let line = format!("{} {}\n", timestamp(), msg.as_ref());
        if !self.quiet {
            eprint!("{line}");
        }
        if let Some(f) = &self.file {
            let _ = f.lock().expect("log lock").write_all(line.as_bytes());
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}
