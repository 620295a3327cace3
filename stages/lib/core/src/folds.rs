//! Validation folds by experiment, stratified by cell type (docs/method.md
//! section 2). With `--data-split-seed` and RxRx1's structure these are the
//! reference's six folds exactly (same Python RNG, same counts); for other
//! datasets the per-fold counts are derived as evenly as possible.

use std::collections::BTreeMap;

use crate::error::{CoreError, Result};
use crate::index::{DatasetIndex, Split, WellType};
use crate::pyrandom::PyRandom;

/// Number of folds of the reference.
pub const FOLDS: usize = 6;

/// RxRx1's per-fold counts for (HEPG2, HUVEC, RPE, U2OS).
const RXRX1_COUNTS: [[usize; 4]; FOLDS] = [
    [2, 2, 1, 1],
    [1, 3, 2, 1],
    [1, 3, 1, 1],
    [1, 3, 1, 1],
    [1, 3, 1, 1],
    [1, 3, 1, 1],
];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Folds {
    /// Validation experiments of each fold, sorted (may repeat across folds
    /// when a cell type has fewer experiments than folds).
    pub folds: Vec<Vec<String>>,
    /// Every labelled experiment (training experiments and alias targets).
    pub labelled: Vec<String>,
}

impl Folds {
    /// Draws the folds. Labelled experiments are those with labelled
    /// treatment wells: training experiments and layout-alias targets.
    pub fn new(index: &DatasetIndex, split_seed: u64) -> Self {
        let mut by_cell: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (i, e) in index.experiments.iter().enumerate() {
            let labelled = e.split == Split::Train || index.is_alias_target(i);
            let has_treatments = index.wells.iter().any(|w| {
                w.experiment == i && w.well_type == WellType::Treatment && w.label.is_some()
            });
            if labelled && has_treatments {
                by_cell
                    .entry(&e.cell_type)
                    .or_default()
                    .push(e.name.clone());
            }
        }
        let mut rng = PyRandom::new(split_seed);
        let mut lists: Vec<Vec<String>> = Vec::new();
        for (_, mut list) in by_cell.iter().map(|(c, l)| (c, l.clone())) {
            list.sort();
            // A cell type with fewer experiments than folds is listed again
            // (the reference doubles U2OS's three).
            let copies = FOLDS.div_ceil(list.len());
            let base = list.clone();
            for _ in 1..copies {
                list.extend(base.iter().cloned());
            }
            rng.shuffle(&mut list);
            lists.push(list);
        }
        let cell_names: Vec<&str> = by_cell.keys().copied().collect();
        let lens: Vec<usize> = lists.iter().map(Vec::len).collect();
        let counts: Vec<Vec<usize>> =
            if cell_names == ["HEPG2", "HUVEC", "RPE", "U2OS"] && lens == [7, 17, 7, 6] {
                RXRX1_COUNTS.iter().map(|r| r.to_vec()).collect()
            } else {
                derive_counts(&lens)
            };
        let mut start = vec![0usize; lists.len()];
        let mut folds = Vec::with_capacity(FOLDS);
        for count in &counts {
            let mut fold = Vec::new();
            for (c, list) in lists.iter().enumerate() {
                let mut part = list[start[c]..start[c] + count[c]].to_vec();
                part.sort();
                fold.extend(part);
                start[c] += count[c];
            }
            fold.sort();
            fold.dedup();
            folds.push(fold);
        }
        let mut labelled: Vec<String> = by_cell.values().flatten().cloned().collect();
        labelled.sort();
        Self { folds, labelled }
    }

    /// Validation experiments for `--cv-number` (-1: none).
    pub fn validation(&self, cv_number: i32) -> Result<&[String]> {
        match cv_number {
            -1 => Ok(&[]),
            k if (0..FOLDS as i32).contains(&k) => Ok(&self.folds[k as usize]),
            k => Err(CoreError::Config(format!(
                "--cv-number {k}: expected -1 (no validation) or a fold 0..{}",
                FOLDS - 1
            ))),
        }
    }

    /// Training experiments for `--cv-number`: the labelled ones not validated.
    pub fn training(&self, cv_number: i32) -> Result<Vec<String>> {
        let val = self.validation(cv_number)?;
        Ok(self
            .labelled
            .iter()
            .filter(|e| !val.contains(e))
            .cloned()
            .collect())
    }
}

/// Per-fold counts per cell type: `len / FOLDS` each, the remainders spread
/// one by one, continuing where the previous cell type's stopped so that
/// folds stay balanced.
fn derive_counts(lens: &[usize]) -> Vec<Vec<usize>> {
    let mut counts = vec![vec![0; lens.len()]; FOLDS];
    let mut next = 0;
    for (c, &n) in lens.iter().enumerate() {
        for (k, row) in counts.iter_mut().enumerate() {
            row[c] = n / FOLDS + usize::from((k + FOLDS - next) % FOLDS < n % FOLDS);
        }
        next = (next + n % FOLDS) % FOLDS;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_counts_use_every_experiment_once() {
        for lens in [vec![7, 17, 7, 6], vec![6, 8], vec![6, 6], vec![13, 6]] {
            let counts = derive_counts(&lens);
            for (c, &n) in lens.iter().enumerate() {
                assert_eq!(counts.iter().map(|r| r[c]).sum::<usize>(), n, "{lens:?}");
            }
            let sizes: Vec<usize> = counts.iter().map(|r| r.iter().sum()).collect();
            assert!(
                sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
                "{lens:?}: {sizes:?}"
            );
        }
    }
}
