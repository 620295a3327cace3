//! Which sites train and which validate (REFERENCE section 2): treatment
//! wells of the fold's training experiments (layout-alias targets included
//! with their derived labels), control wells (by default of every
//! experiment, their labels being known), validation treatment wells, and
//! the wells pseudo-labelling may draw from (validation and test treatment
//! wells, alias targets excluded).

use std::collections::BTreeSet;

use rcic_core::{DatasetIndex, Folds, Split, WellType, SITES};

use crate::error::TrainError;

/// A labelled site: the well's index in the dataset index, its site, a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sample {
    pub well: usize,
    pub site: u8,
    pub label: u32,
}

/// Where a pseudo-labelling candidate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pool {
    Val,
    Test,
}

#[derive(Debug, Clone, Default)]
pub struct Splits {
    pub train: Vec<Sample>,
    /// Validation treatment sites (labels known).
    pub val: Vec<Sample>,
    /// Wells (not sites) pseudo-labelling may add, validation first, in well order.
    pub pl_pool: Vec<(Pool, usize)>,
    pub train_experiments: Vec<String>,
    pub val_experiments: Vec<String>,
}

/// Assembles the splits of fold `cv_number` (-1: no validation).
pub fn build(
    index: &DatasetIndex,
    folds: &Folds,
    cv_number: i32,
    all_controls_train: bool,
) -> Result<Splits, TrainError> {
    let val: BTreeSet<&str> = folds
        .validation(cv_number)?
        .iter()
        .map(String::as_str)
        .collect();
    let train_exps = folds.training(cv_number)?;
    let train_set: BTreeSet<&str> = train_exps.iter().map(String::as_str).collect();
    let mut s = Splits {
        train_experiments: train_exps.clone(),
        val_experiments: val.iter().map(|e| e.to_string()).collect(),
        ..Default::default()
    };
    for (i, w) in index.wells.iter().enumerate() {
        let e = &index.experiments[w.experiment];
        let name = e.name.as_str();
        let sites = |label: u32| {
            (1..=SITES).map(move |site| Sample {
                well: i,
                site,
                label,
            })
        };
        match (w.well_type, w.label) {
            (WellType::Treatment, Some(l)) if train_set.contains(name) => s.train.extend(sites(l)),
            (WellType::Treatment, Some(l)) if val.contains(name) => {
                s.val.extend(sites(l));
                s.pl_pool.push((Pool::Val, i));
            }
            (WellType::Treatment, None)
                if e.split == Split::Test && !index.is_alias_target(w.experiment) =>
            {
                s.pl_pool.push((Pool::Test, i));
            }
            (WellType::NegativeControl | WellType::PositiveControl, Some(l))
                if all_controls_train || train_set.contains(name) =>
            {
                s.train.extend(sites(l))
            }
            _ => {}
        }
    }
    // Validation wells first, then test, each in well order (the reference's).
    s.pl_pool.sort_by_key(|&(p, w)| (p, w));
    if s.train.is_empty() {
        return Err(TrainError::Data(format!(
            "the training set is empty after filtering (cv-number {cv_number}, training experiments {:?})",
            train_exps
        )));
    }
    Ok(s)
}
