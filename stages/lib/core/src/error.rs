//! The core library's errors. Every message names the file (and line, when
//! there is one) at fault and what was expected, so a user can fix the input
//! without reading code.

use std::fmt;
use std::path::PathBuf;

/// One problem found in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in the file (the header is line 1); None for a
    /// problem about the file as a whole.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// Problems of one file, collected up to a limit before failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblems {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
    /// Problems found beyond the collection limit (not listed).
    pub more: usize,
}

impl fmt::Display for FileProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.problems {
            writeln!(f, "  {}: {p}", self.path.display())?;
        }
        if self.more > 0 {
            writeln!(
                f,
                "  {}: ... and {} more problem(s)",
                self.path.display(),
                self.more
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A check or publish of the shared CLI and I/O policy.
    #[error(transparent)]
    Cli(#[from] rcic_cli::CliError),
    /// A file-system operation on `path` failed (the cause is the source,
    /// which `rcic_cli::report::error_chain` prints after the message).
    #[error("{}: {what}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        cause: std::io::Error,
    },
    #[error("{}: missing; expected {expected}", path.display())]
    MissingFile { path: PathBuf, expected: String },
    /// A dataset folder holding both layouts' tables.
    #[error("{}: holds both metadata.csv (the public RxRx1 release) and train.csv (the Kaggle competition layout); expected one layout: move the other's files out", root.display())]
    MixedLayouts { root: PathBuf },
    #[error("invalid dataset input ({} problem(s)):\n{}", count_problems(.0), render_files(.0))]
    Invalid(Vec<FileProblems>),
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("{0}")]
    Config(String),
    #[error("artifact store: {0}")]
    Store(String),
    #[error("parquet {}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        cause: parquet::errors::ParquetError,
    },
    #[error("arrow")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A flag's value that is not one it accepts.
    #[error("{flag} {message}")]
    Flag { flag: &'static str, message: String },
    #[error(
        "--data-normalization: no pixel statistics for {experiment} in the preprocess artifact"
    )]
    NoPixelStats { experiment: String },
    #[error("the training set is empty after filtering (cv-number {cv_number}, training experiments {experiments:?})")]
    EmptyTrainingSet {
        cv_number: i32,
        experiments: Vec<String>,
    },
    #[error("--tensors {}: not a preprocess artifact (no sites.parquet); expected a folder printed by rcic-preprocess", path.display())]
    NotPreprocessArtifact { path: PathBuf },
    #[error("no preprocess artifact of {} (data key {key}) in the store {}; run first:\n    rcic-preprocess --data {} --store {}", data.display(), store.display(), data.display(), store.display())]
    NoPreprocessArtifact {
        data: PathBuf,
        key: String,
        store: PathBuf,
    },
    #[error("{} preprocess artifacts of {} in {} ({}); name one with --tensors", found.len(), data.display(), store.display(), join_paths(found))]
    ManyPreprocessArtifacts {
        data: PathBuf,
        store: PathBuf,
        found: Vec<PathBuf>,
    },
}

fn count_problems(files: &[FileProblems]) -> usize {
    files.iter().map(|f| f.problems.len() + f.more).sum()
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_files(files: &[FileProblems]) -> String {
    files
        .iter()
        .map(|f| f.to_string())
        .collect::<String>()
        .trim_end()
        .to_string()
}

impl CoreError {
    pub fn io(path: impl Into<PathBuf>, what: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            what,
            cause: source,
        }
    }

    /// All problems as (path, line, message), for tests and reports.
    pub fn problems(&self) -> Vec<(PathBuf, Option<usize>, String)> {
        match self {
            Self::Invalid(files) => files
                .iter()
                .flat_map(|f| {
                    f.problems
                        .iter()
                        .map(move |p| (f.path.clone(), p.line, p.message.clone()))
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Collects problems per file up to `limit` each.
#[derive(Debug, Default)]
pub struct Collector {
    files: Vec<FileProblems>,
    limit: usize,
}

impl Collector {
    pub fn new(limit: usize) -> Self {
        Self {
            files: Vec::new(),
            limit: limit.max(1),
        }
    }

    pub fn push(
        &mut self,
        path: &std::path::Path,
        line: Option<usize>,
        message: impl Into<String>,
    ) {
        let idx = match self.files.iter().position(|f| f.path == path) {
            Some(i) => i,
            None => {
                self.files.push(FileProblems {
                    path: path.to_path_buf(),
                    problems: Vec::new(),
                    more: 0,
                });
                self.files.len() - 1
            }
        };
        let f = &mut self.files[idx];
        if f.problems.len() < self.limit {
            f.problems.push(Problem {
                line,
                message: message.into(),
            });
        } else {
            f.more += 1;
        }
    }

    /// Problems pushed so far, listed or not.
    pub fn count(&self) -> usize {
        self.files.iter().map(|f| f.problems.len() + f.more).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Fails with everything collected so far, if anything was.
    pub fn finish(self) -> Result<()> {
        if self.files.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Invalid(self.files))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_the_source_and_printed_once_after_the_message() {
        let e = CoreError::io(
            "x/y.csv",
            "cannot read",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(e.to_string(), "x/y.csv: cannot read");
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(
            rcic_cli::report::error_chain(&e),
            "x/y.csv: cannot read: entity not found"
        );
        let e = CoreError::from(arrow_schema::ArrowError::ComputeError("c".into()));
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(rcic_cli::report::error_chain(&e), "arrow: Compute error: c");
    }
}
