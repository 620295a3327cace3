//! The rows of a split (docs/method.md section 2), shared by training (what it
//! trains and validates on) and prediction (which validation wells it
//! predicts), so both stages see the same fold: treatment wells of the
//! fold's training experiments (layout-alias targets included with their
//! derived labels), control wells (by default of every experiment, their
//! labels being known), validation treatment wells, and the wells
//! pseudo-labelling may draw from (validation and test treatment wells,
//! alias targets excluded). Also where a site lies in the preprocess
//! artifact ([`row_of`]).

use std::collections::BTreeSet;

use crate::error::{CoreError, Result};
use crate::folds::Folds;
use crate::index::{DatasetIndex, Split, WellType, SITES};

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

/// Site row in the preprocess artifact (the index's site order).
pub fn row_of(well: usize, site: u8) -> u32 {
    (well * SITES as usize + site as usize - 1) as u32
}

/// Assembles the splits of fold `cv_number` (-1: no validation).
pub fn build(
    index: &DatasetIndex,
    folds: &Folds,
    cv_number: i32,
    all_controls_train: bool,
) -> Result<Splits> {
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
        return Err(CoreError::EmptyTrainingSet {
            cv_number,
            experiments: train_exps,
        });
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alias::AliasConfig;
    use crate::index::IndexOptions;

    fn index() -> (tempfile::TempDir, DatasetIndex) {
        let d = tempfile::tempdir().unwrap();
        rcic_testkit::csv_sets::write(
            d.path(),
            &[
                ("A-01", true, 0),
                ("A-02", true, 1),
                ("B-01", true, 3),
                ("A-03", false, 2),
                ("B-02", false, 0),
            ],
            Some(("B-02", "A-02")),
        );
        let opts = IndexOptions {
            aliases: AliasConfig::List(vec!["B-02=A-02:1".parse().unwrap()]),
            ..Default::default()
        };
        let ix = DatasetIndex::load(d.path(), &opts).unwrap();
        (d, ix)
    }

    #[test]
    fn sets_follow_the_fold_controls_and_alias_rules() {
        let (_d, ix) = index();
        let folds = Folds::new(&ix, 0);
        let s = build(&ix, &folds, 0, true).unwrap();
        let name = |w: usize| ix.experiments[ix.wells[w].experiment].name.as_str();
        let val: BTreeSet<&str> = s.val.iter().map(|x| name(x.well)).collect();
        assert_eq!(val.iter().copied().collect::<Vec<_>>(), folds.folds[0]);
        // Training treatments: labelled experiments not in the fold (alias target included).
        for x in &s.train {
            let w = &ix.wells[x.well];
            if w.well_type == WellType::Treatment {
                assert!(!val.contains(name(x.well)));
                assert_eq!(Some(x.label), w.label);
            }
        }
        assert!(
            s.train.iter().any(
                |x| name(x.well) == "B-02" && ix.wells[x.well].well_type == WellType::Treatment
            ) || val.contains("B-02")
        );
        // All controls, test experiments' too, two sites each.
        let controls = ix
            .wells
            .iter()
            .filter(|w| w.well_type != WellType::Treatment)
            .count();
        assert_eq!(
            s.train
                .iter()
                .filter(|x| ix.wells[x.well].well_type != WellType::Treatment)
                .count(),
            2 * controls
        );
        // Without all-controls, only training experiments' controls.
        let s2 = build(&ix, &folds, 0, false).unwrap();
        assert!(s2
            .train
            .iter()
            .all(|x| s2.train_experiments.iter().any(|e| e == name(x.well))));
        // The pseudo-label pool: validation wells then test wells, alias target excluded.
        assert!(s
            .pl_pool
            .iter()
            .all(|&(p, w)| (p == Pool::Val) == val.contains(name(w))));
        assert!(s.pl_pool.iter().all(|&(_, w)| name(w) != "B-02"));
        assert!(s
            .pl_pool
            .iter()
            .any(|&(p, w)| p == Pool::Test && name(w) == "A-03"));
        let firsts: Vec<Pool> = s.pl_pool.iter().map(|p| p.0).collect();
        assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
        // No validation: everything trains.
        let all = build(&ix, &folds, -1, true).unwrap();
        assert!(all.val.is_empty());
        assert!(all.train.len() > s.train.len());
        assert!(build(&ix, &folds, 9, true)
            .unwrap_err()
            .to_string()
            .contains("--cv-number 9"));
    }

    #[test]
    fn rows_follow_the_index_site_order() {
        assert_eq!(row_of(0, 1), 0);
        assert_eq!(row_of(0, SITES), SITES as u32 - 1);
        assert_eq!(row_of(3, 1), 3 * SITES as u32);
    }
}
