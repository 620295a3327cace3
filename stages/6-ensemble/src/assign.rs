//! Section 9 step 4: per plate, a linear sum assignment of the plate's wells
//! to distinct classes maximising the summed logits ([`crate::lsa`]), the
//! plates solved in parallel with rayon. Optionally (beyond the reference,
//! off by default) the plate's matrix is first balanced with Sinkhorn iterations.

use std::collections::BTreeMap;
use std::time::Instant;

use rayon::prelude::*;
use rcic_core::DatasetIndex;

use crate::lsa;

/// Time spent on one plate's assignment.
#[derive(Debug, Clone)]
pub struct PlateTime {
    pub experiment: String,
    pub plate: u8,
    pub wells: usize,
    pub seconds: f64,
}

/// Plates of a list of dataset wells: (experiment, plate) -> positions in
/// `wells` (ascending).
pub fn plates(index: &DatasetIndex, wells: &[usize]) -> BTreeMap<(String, u8), Vec<usize>> {
    let mut out: BTreeMap<(String, u8), Vec<usize>> = BTreeMap::new();
    for (i, &w) in wells.iter().enumerate() {
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

/// A plate restricted to one group with at least as many classes as wells,
/// every logit of them finite (every RxRx1 plate: 277 wells, 277 classes),
/// is solved on the group's classes alone: the other classes are minus
/// infinity in every row, and an optimal assignment never takes one (a
/// finite perfect matching exists), so the optimum is the one found with
/// them kept; only among exactly tied optima may the one chosen differ.
/// None when the plate is not of that kind.
fn one_group(rows: &[&[f32]], mask: &[bool]) -> Option<Vec<usize>> {
    let cols: Vec<usize> = (0..mask.len()).filter(|&c| mask[c]).collect();
    let (n, k) = (rows.len(), cols.len());
    if k < n {
        return None;
    }
    let mut cost = vec![0f64; n * k];
    for (row, out) in rows.iter().zip(cost.chunks_exact_mut(k.max(1))) {
        let row = &row[..mask.len()];
        for (o, &c) in out.iter_mut().zip(&cols) {
            *o = -(row[c] as f64);
        }
        if out.contains(&f64::INFINITY) {
            return None;
        }
    }
    Some(
        lsa::minimize(&cost, n, k)
            .into_iter()
            .map(|j| cols[j])
            .collect(),
    )
}

/// Assigns a distinct class to every well of one plate: `rows[i]` the
/// logits of well i (one per class, at least as many classes as wells);
/// with a `mask`, the classes outside it are minus infinity (the plate's
/// group). Returns the class of every well.
pub fn solve_plate(
    rows: &[&[f32]],
    mask: Option<&[bool]>,
    sinkhorn_iterations: Option<usize>,
) -> Vec<usize> {
    let n = rows.len();
    let Some(m) = rows.first().map(|r| r.len()) else {
        return Vec::new();
    };
    if let Some(cols) = mask
        .filter(|_| sinkhorn_iterations.is_none())
        .and_then(|mask| one_group(rows, mask))
    {
        return cols;
    }
    let mut score: Vec<f64> = Vec::with_capacity(n * m);
    for row in rows {
        match mask {
            None => score.extend(row.iter().map(|&x| x as f64)),
            Some(mask) => score.extend(row.iter().zip(mask).map(|(&x, &ok)| {
                if ok {
                    x as f64
                } else {
                    f64::NEG_INFINITY
                }
            })),
        }
    }
    if let Some(it) = sinkhorn_iterations {
        sinkhorn(&mut score, n, m, it);
    }
    lsa::maximize(&score, n, m)
}

/// Solves plates in parallel: `plates` each (experiment, plate) with its
/// wells' positions, `row(k)` the logits of position k, `mask(i)` the
/// group's classes of plate i. Returns each plate's classes (by its rows)
/// and time.
pub fn solve_plates<'a>(
    plates: &[((String, u8), Vec<usize>)],
    row: &(dyn Fn(usize) -> &'a [f32] + Sync),
    mask: &(dyn Fn(usize) -> Option<&'a [bool]> + Sync),
    sinkhorn_iterations: Option<usize>,
) -> Vec<(Vec<usize>, PlateTime)> {
    plates
        .par_iter()
        .enumerate()
        .map(|(i, ((experiment, plate), ks))| {
            let t0 = Instant::now();
            let rows: Vec<&[f32]> = ks.iter().map(|&k| row(k)).collect();
            let cols = solve_plate(&rows, mask(i), sinkhorn_iterations);
            (
                cols,
                PlateTime {
                    experiment: experiment.clone(),
                    plate: *plate,
                    wells: ks.len(),
                    seconds: t0.elapsed().as_secs_f64(),
                },
            )
        })
        .collect()
}
