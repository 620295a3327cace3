//! What the ensemble is asked to do, and the checks of it that need no file
//! read: one or more files, each once, one finite positive weight per file,
//! a positive temperature, a bounded number of Sinkhorn iterations.

use std::path::PathBuf;

use rcic_core::AliasConfig;

use crate::error::{EnsembleError, Result};

/// What the ensemble is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub data: PathBuf,
    pub files: Vec<PathBuf>,
    /// One per file; None: all 1.
    pub weights: Option<Vec<f64>>,
    pub truth: Option<PathBuf>,
    pub aliases: AliasConfig,
    /// Beyond the reference: per-site `log_softmax(logits / T)` before summing.
    pub temperature: Option<f64>,
    /// Beyond the reference: Sinkhorn iterations per plate before assignment.
    pub sinkhorn: Option<usize>,
    /// Beyond the reference: test wells with a layout-alias label get it.
    pub use_alias_labels: bool,
}

/// The most Sinkhorn iterations `--sinkhorn` accepts: balancing converges
/// in tens to hundreds of rounds, and each round of a real plate (277 wells
/// x 1108 classes) costs about a millisecond, so this bounds a plate to
/// about ten seconds.
pub const MAX_SINKHORN: usize = 10_000;

/// Checks the options that need no file read: one or more files, none
/// given twice (same file by any path), one finite positive weight per
/// file, a positive temperature, at most [`MAX_SINKHORN`] iterations.
pub fn check_options(opts: &Options) -> Result<()> {
    if opts.files.is_empty() {
        return Err(EnsembleError::Usage(
            "no prediction files given; expected one or more PRED".into(),
        ));
    }
    let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::new();
    for f in &opts.files {
        let r = rcic_cli::paths::resolve(f);
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == r) {
            return Err(EnsembleError::Usage(format!(
                "prediction file {} is given twice (also as {}); give each file once and weight it with -w",
                f.display(),
                first.display()
            )));
        }
        seen.push((r, f));
    }
    if let Some(w) = &opts.weights {
        if w.len() != opts.files.len() {
            return Err(EnsembleError::Usage(format!(
                "-w gives {} weight(s) for {} prediction file(s); expected one weight per file",
                w.len(),
                opts.files.len()
            )));
        }
        if let Some(x) = w.iter().find(|x| !(x.is_finite() && **x > 0.0)) {
            return Err(EnsembleError::Usage(format!(
                "-w/--weights: weight {x}; expected a finite number > 0 per file"
            )));
        }
    }
    if let Some(t) = opts.temperature.filter(|t| !(t.is_finite() && *t > 0.0)) {
        return Err(EnsembleError::Usage(format!(
            "--temperature {t}: expected a positive number"
        )));
    }
    if let Some(n) = opts.sinkhorn.filter(|&n| n > MAX_SINKHORN) {
        return Err(EnsembleError::Usage(format!(
            "--sinkhorn {n}: expected at most {MAX_SINKHORN} iterations"
        )));
    }
    Ok(())
}
