//! The training log: timestamped lines to stderr and to `NAME.log`, like the
//! reference's logging setup, so a run can be followed live and read later.
//! The file can be attached late: lines logged before (start-up, while the
//! flags and the data are checked) are kept and written first, so a run that
//! fails at start-up leaves no log file behind.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

enum Sink {
    None,
    Buffer(Vec<u8>),
    File(File),
}

pub struct Log {
    sink: Mutex<Sink>,
    quiet: bool,
}

impl Log {
    /// Appends to `path` when given.
    pub fn new(path: Option<&Path>, quiet: bool) -> std::io::Result<Self> {
        let sink = match path {
            Some(p) => Sink::File(open(p)?),
            None => Sink::None,
        };
        Ok(Self {
            sink: Mutex::new(sink),
            quiet,
        })
    }

    /// A log whose file comes later ([`attach`](Self::attach)); lines are
    /// kept in memory until then.
    pub fn buffered(quiet: bool) -> Self {
        Self {
            sink: Mutex::new(Sink::Buffer(Vec::new())),
            quiet,
        }
    }

    /// Opens `path` (appending), writes the lines kept so far and logs to it
    /// from now on.
    pub fn attach(&self, path: &Path) -> std::io::Result<()> {
        let mut f = open(path)?;
        let mut sink = self.sink.lock().expect("log lock");
        if let Sink::Buffer(b) = &*sink {
            f.write_all(b)?;
        }
        *sink = Sink::File(f);
        Ok(())
    }

    pub fn info(&self, msg: impl AsRef<str>) {
        let line = format!("{} {}\n", timestamp(), msg.as_ref());
        if !self.quiet {
            eprint!("{line}");
        }
        match &mut *self.sink.lock().expect("log lock") {
            Sink::None => {}
            Sink::Buffer(b) => b.extend_from_slice(line.as_bytes()),
            Sink::File(f) => {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }
}

fn open(p: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
}

pub use rcic_core::clock::timestamp;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_lines_reach_the_file_once_attached() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.log");
        let log = Log::buffered(true);
        log.info("first");
        assert!(!p.exists());
        log.attach(&p).unwrap();
        log.info("second");
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with(" first") && lines[1].ends_with(" second"));
    }
}
