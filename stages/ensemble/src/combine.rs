//! Section 9 steps 1 and 2 as arithmetic: per file, the site logits of each
//! well summed (treatment classes only, sites in order, float32 as the
//! reference's numpy arrays); each file multiplied by its weight (float32);
//! the ensemble the sum over files in file order of the wells each file has.
//! Wells are kept sorted by id_code, the reference's order.

use std::collections::BTreeMap;

use crate::read::PredFile;
use crate::table::SplitRows;

/// Logits of the treatment classes per well (row-major `wells x classes`).
#[derive(Debug, Clone, Default)]
pub struct WellLogits {
    /// Dataset well indices, sorted by id_code.
    pub wells: Vec<usize>,
    pub classes: usize,
    pub logits: Vec<f32>,
}

impl WellLogits {
    pub fn len(&self) -> usize {
        self.wells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.wells.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.logits[i * self.classes..(i + 1) * self.classes]
    }

    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.logits[i * self.classes..(i + 1) * self.classes]
    }

    /// Multiplies every logit by `w` (float32; 1 changes nothing).
    pub fn scale(&mut self, w: f32) {
        if w != 1.0 {
            self.logits.iter_mut().for_each(|x| *x *= w);
        }
    }
}

/// Per-site transform before summing (an option beyond the reference):
/// `log_softmax(logits / temperature)` over all classes of the site.
fn log_softmax(site: &[f32], temperature: f64) -> Vec<f32> {
    let y: Vec<f64> = site.iter().map(|&x| x as f64 / temperature).collect();
    let m = y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + y.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    y.iter().map(|v| (v - lse) as f32).collect()
}

/// Step 1: the well sums of one split of one file. `ids` are the dataset's
/// id_codes (for the order), `treatments` the classes kept.
pub fn well_sums(
    f: &PredFile,
    rows: &SplitRows,
    treatments: usize,
    temperature: Option<f64>,
    ids: &[String],
) -> WellLogits {
    let mut order: Vec<usize> = (0..rows.wells.len()).collect();
    order.sort_by(|&a, &b| ids[rows.wells[a]].cmp(&ids[rows.wells[b]]));
    let mut out = WellLogits {
        wells: Vec::with_capacity(order.len()),
        classes: treatments,
        logits: vec![0.0; order.len() * treatments],
    };
    for (i, &k) in order.iter().enumerate() {
        out.wells.push(rows.wells[k]);
        let acc = &mut out.logits[i * treatments..(i + 1) * treatments];
        for (s, &r) in rows.rows[k].iter().enumerate() {
            let site = f.row_logits(r);
            let site: std::borrow::Cow<[f32]> = match temperature {
                Some(t) => log_softmax(site, t).into(),
                None => site.into(),
            };
            if s == 0 {
                acc.copy_from_slice(&site[..treatments]);
            } else {
                acc.iter_mut()
                    .zip(&site[..treatments])
                    .for_each(|(a, x)| *a += x);
            }
        }
    }
    out
}

/// Step 2: the sum over (already weighted) files of the wells each has, in
/// file order, wells sorted by id_code.
pub fn ensemble(files: &[&WellLogits], ids: &[String]) -> WellLogits {
    let classes = files.first().map_or(0, |f| f.classes);
    let mut at: BTreeMap<&str, usize> = BTreeMap::new();
    for f in files {
        for &w in &f.wells {
            at.entry(ids[w].as_str()).or_insert(w);
        }
    }
    let wells: Vec<usize> = at.values().copied().collect();
    let pos: std::collections::HashMap<usize, usize> =
        wells.iter().enumerate().map(|(i, &w)| (w, i)).collect();
    let mut out = WellLogits {
        wells,
        classes,
        logits: vec![0.0; at.len() * classes],
    };
    let mut seen = vec![false; out.wells.len()];
    for f in files {
        for (i, &w) in f.wells.iter().enumerate() {
            let j = pos[&w];
            let src = f.row(i);
            let dst = out.row_mut(j);
            if seen[j] {
                dst.iter_mut().zip(src).for_each(|(a, x)| *a += x);
            } else {
                dst.copy_from_slice(src);
                seen[j] = true;
            }
        }
    }
    out
}
