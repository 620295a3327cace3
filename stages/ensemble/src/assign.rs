//! Section 9 step 4: per plate, a linear sum assignment of the plate's wells
//! to distinct classes maximising the summed logits ([`crate::lsa`]), plates
//! solved in parallel with rayon. Optionally (beyond the reference, off by
//! default) the plate's matrix is first balanced with Sinkhorn iterations.

use std::collections::BTreeMap;
use std::time::Instant;

use rayon::prelude::*;
use rcic_core::DatasetIndex;

use crate::combine::WellLogits;
use crate::error::{EnsembleError, Result};
use crate::lsa;

/// Time spent on one plate's assignment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlateTime {
    pub experiment: String,
    pub plate: u8,
    pub wells: usize,
    pub seconds: f64,
}

/// Plates of a split: (experiment, plate) -> positions in `wl` (ascending,
/// hence by id_code).
pub fn plates(index: &DatasetIndex, wl: &WellLogits) -> BTreeMap<(String, u8), Vec<usize>> {
    let mut out: BTreeMap<(String, u8), Vec<usize>> = BTreeMap::new();
    for (i, &w) in wl.wells.iter().enumerate() {
        let r = &index.wells[w];
        out.entry((index.experiments[r.experiment].name.clone(), r.plate))
            .or_default()
            .push(i);
    }
    out
}

/// Sinkhorn balancing of a plate (`n x m`, row-major, -inf = not allowed):
/// probabilities `exp(x - row max)`, then `iterations` rounds of rows
/// normalised to 1 and allowed columns to `n / allowed columns`; the result
/// is the log of the balanced matrix (-inf where not allowed).
pub fn sinkhorn(score: &mut [f64], n: usize, m: usize, iterations: usize) {
    for i in 0..n {
        let row = &mut score[i * m..(i + 1) * m];
        let mx = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        row.iter_mut()
            .for_each(|x| *x = if mx.is_finite() { (*x - mx).exp() } else { 0.0 });
    }
    let allowed: Vec<bool> = (0..m)
        .map(|j| (0..n).any(|i| score[i * m + j] > 0.0))
        .collect();
    let k = allowed.iter().filter(|&&a| a).count().max(1);
    let col_target = n as f64 / k as f64;
    for _ in 0..iterations {
        for i in 0..n {
            let row = &mut score[i * m..(i + 1) * m];
            let s: f64 = row.iter().sum();
            if s > 0.0 {
                row.iter_mut().for_each(|x| *x /= s);
            }
        }
        for j in (0..m).filter(|&j| allowed[j]) {
            let s: f64 = (0..n).map(|i| score[i * m + j]).sum();
            if s > 0.0 {
                (0..n).for_each(|i| score[i * m + j] *= col_target / s);
            }
        }
    }
    score
        .iter_mut()
        .for_each(|x| *x = if *x > 0.0 { x.ln() } else { f64::NEG_INFINITY });
}

/// Assigns a distinct class to every well of every plate. Returns the class
/// of every well (in `wl` order) and the time of each plate.
pub fn assign(
    index: &DatasetIndex,
    wl: &WellLogits,
    sinkhorn_iterations: Option<usize>,
) -> Result<(Vec<u32>, Vec<PlateTime>)> {
    let m = wl.classes;
    let plates: Vec<((String, u8), Vec<usize>)> = plates(index, wl).into_iter().collect();
    if let Some(((e, p), pos)) = plates.iter().find(|(_, pos)| pos.len() > m) {
        return Err(EnsembleError::Usage(format!(
            "experiment {e} plate {p} has {} treatment wells but there are only {m} treatment classes; expected at most one well per class",
            pos.len()
        )));
    }
    let solved: Vec<(Vec<usize>, PlateTime)> = plates
        .par_iter()
        .map(|((e, p), pos)| {
            let t0 = Instant::now();
            let n = pos.len();
            let mut score: Vec<f64> = Vec::with_capacity(n * m);
            for &i in pos {
                score.extend(wl.row(i).iter().map(|&x| x as f64));
            }
            if let Some(it) = sinkhorn_iterations {
                sinkhorn(&mut score, n, m, it);
            }
            let cols = lsa::maximize(&score, n, m);
            (
                cols,
                PlateTime {
                    experiment: e.clone(),
                    plate: *p,
                    wells: n,
                    seconds: t0.elapsed().as_secs_f64(),
                },
            )
        })
        .collect();
    let mut out = vec![0u32; wl.len()];
    let mut times = Vec::with_capacity(plates.len());
    for ((_, pos), (cols, t)) in plates.iter().zip(solved) {
        for (&i, c) in pos.iter().zip(cols) {
            out[i] = c as u32;
        }
        times.push(t);
    }
    Ok((out, times))
}
