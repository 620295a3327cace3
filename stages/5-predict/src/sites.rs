//! Which sites are predicted and in what order: every site of the test
//! experiments' treatment wells (`test`) and the validation treatment wells
//! of the fold (`val`, as training builds them; none with `--cv-number -1`),
//! sorted by (split, id_code, site). Sharding takes every N-th (experiment, plate)
//! group, and batches never span a group, so a shard computes exactly what a
//! single run computes for its sites.

use std::collections::BTreeSet;

use rcic_core::normalize::{norm_of, ChannelNorm, Normalization};
use rcic_core::splits::row_of;
use rcic_core::stats_table::StatsTable;
use rcic_core::{DatasetIndex, Folds, Split, WellType, SITES};

use crate::error::PredictError;

/// One site to predict.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Row in the preprocess artifact (the index's site order).
    pub row: u32,
    pub split: &'static str,
    pub id_code: String,
    pub site: u8,
    pub cell_type: usize,
    /// (experiment, plate): the sharding and batching unit.
    pub group: (usize, u8),
    /// Normalisation statistics (None: per sample).
    pub norm: Option<ChannelNorm>,
}

/// `--shard I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = PredictError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PredictError::Flag(format!("--shard {s:?}: expected I/N with 0 <= I < N"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// Every site to predict, in output order: test treatment sites and the
/// validation sites of fold `cv_number` (validation split seed `split_seed`).
pub fn targets(
    index: &DatasetIndex,
    stats: Option<&StatsTable>,
    how: Normalization,
    cv_number: i32,
    split_seed: u64,
) -> Result<Vec<Target>, PredictError> {
    let folds = Folds::new(index, split_seed);
    let val_wells: BTreeSet<usize> = if cv_number == -1 {
        BTreeSet::new()
    } else {
        rcic_core::splits::build(index, &folds, cv_number, true)?
            .val
            .iter()
            .map(|s| s.well)
            .collect()
    };
    let mut out = Vec::new();
    for (i, w) in index.wells.iter().enumerate() {
        let e = &index.experiments[w.experiment];
        // Every test treatment well (all test experiments, layout-alias targets
        // included), and the fold's validation wells; an alias target in the
        // validation fold is predicted under both splits, as the reference does.
        let mut splits = Vec::new();
        if e.split == Split::Test && w.well_type == WellType::Treatment {
            splits.push("test");
        }
        if val_wells.contains(&i) {
            splits.push("val");
        }
        if splits.is_empty() {
            continue;
        }
        let norm = norm_of(index, stats, how, i)?;
        let id_code = index.id_code(w);
        for split in splits {
            for site in 1..=SITES {
                out.push(Target {
                    row: row_of(i, site),
                    split,
                    id_code: id_code.clone(),
                    site,
                    cell_type: index.cell_type_index(w),
                    group: (w.experiment, w.plate),
                    norm,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.split, a.id_code.as_str(), a.site).cmp(&(b.split, b.id_code.as_str(), b.site))
    });
    Ok(out)
}

/// The targets of shard `shard`: every `count`-th (experiment, plate) group.
pub fn shard(targets: Vec<Target>, shard: Option<Shard>) -> Vec<Target> {
    let Some(sh) = shard else { return targets };
    let groups: Vec<(usize, u8)> = targets
        .iter()
        .map(|t| t.group)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mine: BTreeSet<(usize, u8)> = groups
        .iter()
        .enumerate()
        .filter(|(k, _)| k % sh.count == sh.index)
        .map(|(_, g)| *g)
        .collect();
    targets
        .into_iter()
        .filter(|t| mine.contains(&t.group))
        .collect()
}

/// Batches of target positions: consecutive targets of one group, at most `batch` each.
pub fn plan(targets: &[Target], batch: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut by_group: std::collections::BTreeMap<(usize, u8), Vec<usize>> = Default::default();
    for (k, t) in targets.iter().enumerate() {
        by_group.entry(t.group).or_default().push(k);
    }
    for ks in by_group.values() {
        out.extend(ks.chunks(batch.max(1)).map(|c| c.to_vec()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_flag() {
        assert_eq!(
            "1/3".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 3 }
        );
        assert!("3/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}
