//! What a run processes: the dataset index's sites grouped by plate (one
//! tensor file per plate), and the deterministic partition of plates into
//! shards for `--shard I/N`.

use std::path::PathBuf;
use std::str::FromStr;

use rcic_core::{DatasetIndex, CHANNELS};

use crate::error::PreprocessError;

/// One site to pack.
#[derive(Debug, Clone)]
pub struct SitePlan {
    /// Row in `sites.parquet` (the index's site order).
    pub row: u32,
    pub id_code: String,
    pub well: String,
    pub site: u8,
    /// Channel 1..6 image paths.
    pub paths: [PathBuf; CHANNELS],
}

/// One plate: the unit of sharding and of tensor files.
#[derive(Debug, Clone)]
pub struct PlatePlan {
    pub experiment: String,
    pub plate: u8,
    /// Position in the sorted (experiment, plate) list.
    pub ordinal: usize,
    pub sites: Vec<SitePlan>,
}

impl PlatePlan {
    /// `tensors-<experiment>_<plate>.parquet`.
    pub fn file_name(&self) -> String {
        format!(
            "{}{}_{}{}",
            rcic_core::tensors::TENSORS_PREFIX,
            self.experiment,
            self.plate,
            rcic_core::tensors::TENSORS_SUFFIX
        )
    }
}

/// Every plate of the index, sorted by (experiment, plate); sites in index order.
pub fn plates(index: &DatasetIndex) -> Vec<PlatePlan> {
    let mut out: Vec<PlatePlan> = Vec::new();
    for (row, s) in index.sites().enumerate() {
        let exp = &index.experiments[s.well.experiment].name;
        if out
            .last()
            .is_none_or(|p| p.experiment != *exp || p.plate != s.well.plate)
        {
            let ordinal = out.len();
            out.push(PlatePlan {
                experiment: exp.clone(),
                plate: s.well.plate,
                ordinal,
                sites: Vec::new(),
            });
        }
        let paths = std::array::from_fn(|c| index.image_path(s.well, s.site, c + 1));
        out.last_mut().unwrap().sites.push(SitePlan {
            row: row as u32,
            id_code: index.id_code(s.well),
            well: s.well.well.to_string(),
            site: s.site,
            paths,
        });
    }
    out
}

/// `--shard I/N`: shard I (0-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Plate ordinal k belongs to shard k mod N (round robin over the sorted
    /// (experiment, plate) list, so shards get near-equal numbers of plates).
    pub fn owns(&self, plate: &PlatePlan) -> bool {
        plate.ordinal % self.count == self.index
    }

    /// Folder name of a shard's output under `-o OUTDIR`.
    pub fn dir_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = PreprocessError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            PreprocessError::Config(format!(
                "--shard {s:?}: expected I/N with 0 <= I < N, like 0/4"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing_and_partition() {
        assert_eq!(
            "1/4".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 4 }
        );
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let p = |ordinal| PlatePlan {
            experiment: "E".into(),
            plate: 1,
            ordinal,
            sites: vec![],
        };
        let owners: Vec<usize> = (0..7)
            .map(|k| {
                (0..3)
                    .find(|&i| Shard { index: i, count: 3 }.owns(&p(k)))
                    .unwrap()
            })
            .collect();
        assert_eq!(owners, [0, 1, 2, 0, 1, 2, 0]);
    }
}
