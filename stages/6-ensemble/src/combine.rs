//! Section 9 steps 1 and 2 as arithmetic, in plain arrays: per file, the
//! site logits of each well summed (treatment classes only, float32 as the
//! reference's numpy arrays), multiplied by the file's weight (float32), and
//! added into the ensemble in file order. Files are added one at a time and
//! their logits streamed row by row ([`PredFile::for_each_row`]): a well's
//! sites are summed in a scratch row, which goes into the ensemble (and back
//! to the pool) when its last site has come, so a file sorted by well needs
//! one scratch row. The sites are added in arrival order: with two sites,
//! `a + b == b + a` exactly in IEEE arithmetic, so this is the reference's
//! site-order sum. Each file's argmaxes (unweighted and weighted) are kept
//! for the per-file and average scores.

use crate::error::{EnsembleError, Result};
use crate::read::{PredFile, PredSplit};
use crate::rows::Rows;
use crate::table::FileRows;

// Arrival order equals site order for the sum only with two sites (see the
// module doc).
const _: () = assert!(rcic_core::SITES == 2);

const NONE: u32 = u32::MAX;

/// Per-site transform before summing (an option beyond the reference):
/// `log_softmax(logits / temperature)` over all classes of the site.
fn log_softmax(site: &[f32], temperature: f64) -> Vec<f32> {
    let y: Vec<f64> = site.iter().map(|&x| x as f64 / temperature).collect();
    let m = y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + y.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    y.iter().map(|v| (v - lse) as f32).collect()
}

/// [`rcic_core::argmax`] (the first maximum, a NaN never winning) in two
/// plain passes the compiler vectorises: the largest value, kept as eight
/// running maxima, then the first index holding it.
pub fn argmax(row: &[f32]) -> usize {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = row.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (m, &v) in lanes.iter_mut().zip(c) {
            if v > *m {
                *m = v;
            }
        }
    }
    let top = lanes
        .iter()
        .chain(rest)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    row.iter().position(|&v| v == top).unwrap_or(0)
}

fn add_into(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += *s;
    }
}

/// One split of one file: its wells (dataset indices) and the argmax of
/// each well's sum, unweighted and weighted.
#[derive(Debug, Clone, Default)]
pub struct FileSplit {
    pub wells: Vec<usize>,
    pub argmax: Vec<u32>,
    pub weighted_argmax: Vec<u32>,
}

/// What one file contributes to the scores: `[val, test]`.
pub type FileSums = [FileSplit; 2];

/// The ensemble's wells of one split: rows of summed logits.
#[derive(Debug, Clone)]
pub struct Part {
    /// Dataset well indices, sorted by id_code (the reference's order).
    pub wells: Vec<usize>,
    /// Argmax of every well's ensemble sum.
    pub argmax: Vec<u32>,
    /// Row in `logits` of each well.
    row: Vec<u32>,
    logits: Rows,
}

impl Part {
    /// The ensemble sum of `wells[k]`.
    pub fn row(&self, k: usize) -> &[f32] {
        self.logits.row(self.row[k] as usize)
    }
}

/// One split being summed: rows in the order wells first came.
#[derive(Debug, Clone)]
struct Sums {
    row_of: Vec<u32>,
    well_of_row: Vec<usize>,
    logits: Rows,
}

impl Sums {
    /// Adds a file's weighted well sum into well `w`'s row.
    fn add(&mut self, w: usize, x: &[f32]) {
        match self.row_of[w] {
            NONE => {
                self.row_of[w] = self.well_of_row.len() as u32;
                self.well_of_row.push(w);
                self.logits.push(x);
            }
            r => add_into(self.logits.row_mut(r as usize), x),
        }
    }
}

/// Scratch rows of the wells of one file whose sites are still coming.
#[derive(Debug, Default)]
struct Scratch {
    slot_of: Vec<u32>,
    count: Vec<u8>,
    rows: Vec<Vec<f32>>,
    free: Vec<u32>,
}

impl Scratch {
    /// Adds site `x` of target `t` (of `sites` sites); its complete sum once
    /// the last has come (the slot is then free again).
    fn add(&mut self, t: usize, x: &[f32], sites: u8) -> Option<&mut [f32]> {
        let k = match self.slot_of[t] {
            NONE => {
                let k = self.free.pop().unwrap_or_else(|| {
                    self.rows.push(vec![0.0; x.len()]);
                    (self.rows.len() - 1) as u32
                });
                self.rows[k as usize].copy_from_slice(x);
                self.slot_of[t] = k;
                k
            }
            k => {
                add_into(&mut self.rows[k as usize], x);
                k
            }
        };
        self.count[t] += 1;
        if self.count[t] < sites {
            return None;
        }
        self.free.push(k);
        Some(&mut self.rows[k as usize])
    }
}

/// The weighted sum of every file added so far.
#[derive(Debug, Clone)]
pub struct Ensemble {
    classes: usize,
    splits: [Sums; 2],
}

impl Ensemble {
    /// An empty ensemble over `wells` dataset wells, keeping the first
    /// `classes` (treatment) classes.
    pub fn new(wells: usize, classes: usize) -> Result<Self> {
        let sums = || -> Result<Sums> {
            Ok(Sums {
                row_of: vec![NONE; wells],
                well_of_row: Vec::new(),
                logits: Rows::new(wells, classes).map_err(EnsembleError::Memory)?,
            })
        };
        Ok(Ensemble {
            classes,
            splits: [sums()?, sums()?],
        })
    }

    /// Steps 1 and 2 for the next file (`rows`: its checked rows): each
    /// well's site sum, its argmax, times `weight`, added into the
    /// ensemble. Returns the file's argmaxes.
    pub fn add_file(
        &mut self,
        f: &PredFile,
        rows: &FileRows,
        weight: f32,
        temperature: Option<f64>,
    ) -> Result<FileSums> {
        let t = self.classes;
        // Every (split, well) of the file is a target: its rows, its place.
        let mut out = FileSums::default();
        let mut target_of_row = vec![NONE; f.rows()];
        let mut targets: Vec<(PredSplit, usize, u8)> = Vec::new();
        for sp in PredSplit::BOTH {
            let src = rows.split(sp);
            for (k, sites) in src.rows.iter().enumerate() {
                sites
                    .iter()
                    .for_each(|&r| target_of_row[r] = targets.len() as u32);
                targets.push((sp, k, sites.len() as u8));
            }
            let n = src.wells.len();
            out[sp.index()] = FileSplit {
                wells: src.wells.clone(),
                argmax: vec![0; n],
                weighted_argmax: vec![0; n],
            };
        }
        let mut scratch = Scratch {
            slot_of: vec![NONE; targets.len()],
            count: vec![0; targets.len()],
            ..Default::default()
        };
        let mut site_buf = Vec::new();
        f.for_each_row(|r, logits| {
            let tg = target_of_row[r];
            if tg == NONE {
                return;
            }
            let x = match temperature {
                None => &logits[..t],
                Some(temp) => {
                    site_buf = log_softmax(logits, temp);
                    &site_buf[..t]
                }
            };
            let (sp, k, sites) = targets[tg as usize];
            let Some(sum) = scratch.add(tg as usize, x, sites) else {
                return;
            };
            let fs = &mut out[sp.index()];
            let a = argmax(sum) as u32;
            fs.argmax[k] = a;
            fs.weighted_argmax[k] = if weight != 1.0 {
                sum.iter_mut().for_each(|x| *x *= weight);
                argmax(sum) as u32
            } else {
                a
            };
            self.splits[sp.index()].add(fs.wells[k], sum);
        })?;
        Ok(out)
    }

    /// The sums of each split, wells sorted by `ids` (the dataset's
    /// id_codes), with their argmaxes: `[val, test]`.
    pub fn finish(self, ids: &[String]) -> [Part; 2] {
        self.splits.map(|s| {
            let mut wells = s.well_of_row.clone();
            wells.sort_by(|&a, &b| ids[a].cmp(&ids[b]));
            let row: Vec<u32> = wells.iter().map(|&w| s.row_of[w]).collect();
            let mut part = Part {
                wells,
                argmax: Vec::new(),
                row,
                logits: s.logits,
            };
            part.argmax = (0..part.wells.len())
                .map(|k| argmax(part.row(k)) as u32)
                .collect();
            part
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn argmax_is_cores() {
        let mut rows: Vec<Vec<f32>> = vec![
            vec![],
            vec![f32::NAN; 11],
            vec![f32::NEG_INFINITY; 9],
            vec![-0.0, 0.0, 0.0],
            vec![1.0; 17],
        ];
        let mut x = 0.5f32;
        for n in [1, 7, 8, 9, 31, 1108] {
            let row: Vec<f32> = (0..n)
                .map(|i| {
                    x = (x * 3.7 + 0.13).fract();
                    if i % 13 == 5 {
                        f32::NAN
                    } else {
                        (x * 8.0).round() - 4.0
                    }
                })
                .collect();
            rows.push(row);
        }
        for r in &rows {
            assert_eq!(super::argmax(r), rcic_core::argmax(r), "{r:?}");
        }
    }
}
