//! Accuracy as the reference logs it: the argmax of each well's logits (the
//! first maximum on ties, as numpy's `argmax`) against the known label, over
//! all wells and per experiment (the per-experiment table with polars,
//! [`crate::table::per_experiment`]).

use rcic_core::ensemble_report::Score;
use rcic_core::DatasetIndex;

use crate::error::Result;

/// The log text of a score: accuracy with its counts.
pub fn text(s: &Score) -> String {
    match s.accuracy {
        Some(a) => format!("{a:.6} ({}/{} wells)", s.correct, s.wells),
        None => "n/a (no wells)".to_string(),
    }
}

/// Scores predicted classes of dataset wells against `label(well)`; wells
/// without a label are not counted.
pub fn score(
    index: &DatasetIndex,
    wells: &[usize],
    pred: &[u32],
    label: &dyn Fn(usize) -> Option<u32>,
) -> Result<Score> {
    let mut names = Vec::with_capacity(wells.len());
    let mut hits = Vec::with_capacity(wells.len());
    for (&w, &p) in wells.iter().zip(pred) {
        if let Some(l) = label(w) {
            names.push(index.experiments[index.wells[w].experiment].name.as_str());
            hits.push(l == p);
        }
    }
    let correct = hits.iter().filter(|&&h| h).count();
    Ok(Score {
        accuracy: (!hits.is_empty()).then(|| correct as f64 / hits.len() as f64),
        correct,
        wells: hits.len(),
        per_experiment: crate::table::per_experiment(&names, &hits)?,
    })
}

/// Pools several scores (the reference's "average score": every file's
/// wells counted together).
pub fn pooled(
    index: &DatasetIndex,
    parts: &[(&[usize], &[u32])],
    label: &dyn Fn(usize) -> Option<u32>,
) -> Result<Score> {
    let wells: Vec<usize> = parts.iter().flat_map(|(w, _)| w.iter().copied()).collect();
    let pred: Vec<u32> = parts.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    score(index, &wells, &pred, label)
}
