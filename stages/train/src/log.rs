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
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            )),
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

pub use rcic_core::clock::timestamp;
