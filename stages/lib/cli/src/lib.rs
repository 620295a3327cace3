//! The one command-line and I/O policy of the rcic stage binaries, so that
//! every stage fails, writes, logs and reads its flags the same way:
//!
//! - [`report`]: `error: ...` on one line, each cause said once, exit 1;
//! - [`output`]: an output path checked before any work (not a folder, not
//!   below a file, not one of the run's inputs);
//! - [`publish`]: files written through a temporary sibling and renamed into
//!   place when complete (on `tempfile`), alone or several together;
//! - [`log`]: timestamped lines to stderr and to a run's log file, with
//!   `-q`/`-v` and `RCIC_LOG`;
//! - [`progress`]: the one progress line of a heavy stage, live on a
//!   terminal, periodic plain lines in files and pipes;
//! - [`args`]: the flags every stage repeats (`--data`, `--tensors`,
//!   `--store`, `--alias`, `--threads`, `-q`/`-v`), as clap argument groups;
//! - [`config`]: presets as data (`--config FILE`, one section per stage,
//!   command-line flags overriding single entries, `--print-config`);
//! - [`paths`]: where a path really is before anything is created.

pub mod args;
pub mod config;
pub mod error;
pub mod log;
pub mod output;
pub mod paths;
pub mod progress;
pub mod publish;
pub mod report;

pub use error::CliError;
