//! The flags several stages share, defined once as clap argument groups
//! (`#[command(flatten)]`), so they read and default the same everywhere.

use std::path::PathBuf;

use clap::builder::RangedU64ValueParser;

use crate::log::{Level, Log};

/// A boolean flag's value (`--fp16 false`; `--fp16` alone is true): true,
/// false, 1 or 0, so that a preset's `true` can be overridden on the
/// command line.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(format!("{s:?}: expected true, false, 1 or 0")),
    }
}

/// The most worker threads any stage accepts.
pub const MAX_THREADS: usize = 1024;

/// `-q` / `-v`: how much of the log reaches stderr.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct LogArgs {
    /// Only warnings on stderr (errors are always printed); RCIC_LOG=quiet does the same by default.
    #[arg(short, long)]
    pub quiet: bool,
    /// Detail on stderr too; RCIC_LOG=debug does the same by default.
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,
}

impl LogArgs {
    pub fn level(&self) -> Level {
        Level::choose(self.quiet, self.verbose)
    }

    /// A log at this level.
    pub fn log(&self) -> Log {
        Log::new(self.level())
    }
}

/// `--data`: the dataset root.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct DataArg {
    /// RxRx1 root: train.csv, test.csv, train_controls.csv, test_controls.csv and the train/ and test/ PNG trees.
    #[arg(long, value_name = "DIR", default_value = "../data")]
    pub data: PathBuf,
}

/// `--tensors` / `--store`: where the preprocess artifact is found.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct TensorsArgs {
    /// A preprocess artifact folder (instead of looking it up in --store by --data's content).
    #[arg(long, value_name = "DIR")]
    pub tensors: Option<PathBuf>,
    /// Artifact store.
    #[arg(long, value_name = "DIR", default_value = "artifacts")]
    pub store: PathBuf,
}

/// `--alias`: layout aliases.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct AliasArg {
    /// Layout aliases: default (RxRx1's HUVEC-18=RPE-03:1 when both exist), none, or TARGET=SOURCE:SHIFT[,...].
    #[arg(long, default_value = "default")]
    pub alias: String,
}

/// `--threads`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct ThreadsArg {
    /// Worker threads; 0 uses all cores; at most 1024.
    #[arg(long, value_name = "T", default_value_t = 0,
          value_parser = RangedU64ValueParser::<usize>::new().range(0..=MAX_THREADS as u64))]
    pub threads: usize,
}
