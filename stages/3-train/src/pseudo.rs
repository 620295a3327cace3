//! Pseudo-labelling selection (docs/method.md section 7): from the current
//! model's well logits (two sites summed), restrict each well to its plate's
//! group minus the classes the plate already has in the training data, rank
//! by top-1 minus top-2 logit, and add the most confident wells up to the
//! size function's target, one label per plate per round.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rcic_core::splits::Pool;

use crate::sizefunc::SizeFunc;

/// A candidate well: pool, well index, experiment and plate, summed logits
/// over the treatment classes, and the true label when known (validation).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub pool: Pool,
    pub well: usize,
    pub experiment: usize,
    pub plate: u8,
    pub logits: Vec<f32>,
    pub truth: Option<u32>,
}

/// What one round did, as the reference logs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Round {
    /// Target count n of this round.
    pub target: usize,
    pub added_val: usize,
    pub added_test: usize,
    pub val_wrong: usize,
    pub not_added: usize,
    /// Confidence of the last candidate taken (None when none).
    pub threshold: Option<f32>,
    /// (well, label) added this round.
    pub added: Vec<(usize, u32)>,
}

/// Progress x of epoch `epoch` for pseudo-labelling from `pl_epoch` on.
pub fn progress(epoch: u32, pl_epoch: u32, epochs: u32) -> f64 {
    (epoch as f64 - pl_epoch as f64 + 1.0) / (epochs as f64 - pl_epoch as f64 + 1.0)
}

/// One round. `pool_size`: all validation + test wells of the pool (added or
/// not); `already`: wells added in earlier rounds; `group_classes(exp, plate)`:
/// the treatment classes of the plate's group; `plate_classes`: classes the
/// training data already holds per (experiment, plate).
pub fn select(
    candidates: &[Candidate],
    x: f64,
    size: &SizeFunc,
    pool_size: usize,
    already: &BTreeSet<usize>,
    group_classes: &dyn Fn(usize, u8) -> Option<BTreeSet<u32>>,
    plate_classes: &HashMap<(usize, u8), BTreeSet<u32>>,
) -> Round {
    let mut confs: Vec<(f32, u32, &Candidate)> = Vec::new();
    for c in candidates.iter().filter(|c| !already.contains(&c.well)) {
        let allowed = group_classes(c.experiment, c.plate);
        let taken = plate_classes.get(&(c.experiment, c.plate));
        let (mut best, mut second, mut arg) = (f32::NEG_INFINITY, f32::NEG_INFINITY, 0u32);
        for (k, &v) in c.logits.iter().enumerate() {
            let k = k as u32;
            let masked = allowed.as_ref().is_some_and(|a| !a.contains(&k))
                || taken.is_some_and(|t| t.contains(&k));
            // Masked classes take the reference's -1e7 rather than being dropped.
            let v = if masked { -10e6 } else { v };
            if v > best {
                second = best;
                best = v;
                arg = k;
            } else if v > second {
                second = v;
            }
        }
        confs.push((best - second, arg, c));
    }
    let target =
        ((size.eval(x) * pool_size as f64).round() as i64 - already.len() as i64).max(0) as usize;
    // Stable sort by confidence, descending: ties keep pool order.
    confs.sort_by(|a, b| b.0.total_cmp(&a.0));
    confs.truncate(target);
    let mut round = Round {
        target,
        threshold: confs.last().map(|c| c.0),
        ..Default::default()
    };
    let mut given: BTreeMap<(usize, u8), BTreeSet<u32>> = BTreeMap::new();
    for (_, label, c) in confs {
        if !given
            .entry((c.experiment, c.plate))
            .or_default()
            .insert(label)
        {
            round.not_added += 1;
            continue;
        }
        match c.pool {
            Pool::Val => {
                round.added_val += 1;
                if c.truth.is_some_and(|t| t != label) {
                    round.val_wrong += 1;
                }
            }
            Pool::Test => round.added_test += 1,
        }
        round.added.push((c.well, label));
    }
    round
}
