//! Section 9 step 3 in the ensemble: which plate holds which treatment
//! group. Per experiment, count for every plate present how many wells'
//! argmax falls in each group and let [`rcic_core::groupinfer`] (the one
//! inference, shared with pseudo-labelling) choose; then every class outside
//! a plate's group counts as minus infinity: [`restricted_argmax`] and the
//! assignment ([`crate::assign`]) see the well's logits that way, without
//! rewriting them.

use std::collections::BTreeMap;

use rcic_core::ensemble_report::{GroupAssignment, GroupStatus};
use rcic_core::groupinfer::choose_assignment;
use rcic_core::DatasetIndex;

/// The chosen groups against the known ones (group of plate p at p - 1).
fn status(known: Option<&[usize]>, plates: &[u8], perm: &[usize]) -> GroupStatus {
    match known {
        None => GroupStatus::Prediction,
        Some(k)
            if plates
                .iter()
                .zip(perm)
                .all(|(&p, &g)| k.get(p as usize - 1) == Some(&g)) =>
        {
            GroupStatus::Correct
        }
        Some(_) => GroupStatus::Incorrect,
    }
}

/// Chooses the groups of every experiment of one split. `wells` are dataset
/// well indices, `args` the argmax of each well's logits; `class_group[c]`
/// is the group of treatment class c; `truth_group(well)` the true group of
/// a well, when known. Returns the choices (by experiment name) and the
/// group of every well (in `wells` order).
pub fn assign_groups(
    index: &DatasetIndex,
    split: &str,
    wells: &[usize],
    args: &[u32],
    class_group: &[Option<usize>],
    ngroups: usize,
    truth_group: &dyn Fn(usize) -> Option<usize>,
) -> (Vec<GroupAssignment>, Vec<usize>) {
    // experiment name -> plate -> positions in wells.
    let mut by_exp: BTreeMap<&str, BTreeMap<u8, Vec<usize>>> = BTreeMap::new();
    for (i, &w) in wells.iter().enumerate() {
        let rec = &index.wells[w];
        by_exp
            .entry(index.experiments[rec.experiment].name.as_str())
            .or_default()
            .entry(rec.plate)
            .or_default()
            .push(i);
    }
    let mut choices = Vec::new();
    let mut well_group = vec![usize::MAX; wells.len()];
    for (exp, plates) in by_exp {
        let plate_ids: Vec<u8> = plates.keys().copied().collect();
        let counts: Vec<Vec<u32>> = plates
            .values()
            .map(|pos| {
                let mut c = vec![0u32; ngroups];
                for &i in pos {
                    if let Some(g) = class_group.get(args[i] as usize).copied().flatten() {
                        c[g] += 1;
                    }
                }
                c
            })
            .collect();
        let as_f64: Vec<Vec<f64>> = counts
            .iter()
            .map(|c| c.iter().map(|&x| x as f64).collect())
            .collect();
        let choice = choose_assignment(&as_f64);
        let perm = choice.assignment;
        let known = index.groups.assignment.get(exp).map(|v| v.as_slice());
        let status = status(known, &plate_ids, &perm);
        // The true group of each plate from the truth labels (first well
        // with one), when every plate has one.
        let true_groups: Option<Vec<usize>> = plates
            .values()
            .map(|pos| pos.iter().find_map(|&i| truth_group(wells[i])))
            .collect();
        let truth_status = true_groups.map(|t| {
            if t == perm {
                GroupStatus::Correct
            } else {
                GroupStatus::Incorrect
            }
        });
        for (k, pos) in plates.values().enumerate() {
            for &i in pos {
                well_group[i] = perm[k];
            }
        }
        choices.push(GroupAssignment {
            split: split.to_string(),
            experiment: exp.to_string(),
            plates: plate_ids,
            permutation: perm,
            score: choice.score,
            margin: choice.margin,
            status,
            truth_status,
            wells: plates.values().map(Vec::len).sum(),
            counts,
        });
    }
    (choices, well_group)
}

/// The classes of every group, ascending (`class_group` inverted).
pub fn group_classes(class_group: &[Option<usize>], ngroups: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); ngroups];
    for (c, g) in class_group.iter().enumerate() {
        if let Some(g) = *g {
            out[g].push(c);
        }
    }
    out
}

/// The argmax of `row` with every class outside `allowed` (ascending) taken
/// as minus infinity: exactly [`rcic_core::argmax`] of that row (a
/// minus-infinity class never wins a `>` comparison, so only class 0 and the
/// allowed classes can be chosen), reading only the allowed classes.
pub fn restricted_argmax(row: &[f32], allowed: &[usize]) -> usize {
    let (mut best, mut top) = match allowed.first() {
        Some(0) => (0, row[0]),
        _ => (0, f32::NEG_INFINITY),
    };
    for &c in allowed {
        if row[c] > top {
            best = c;
            top = row[c];
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_argmax_is_argmax_of_the_restricted_row() {
        let rows: [&[f32]; 4] = [
            &[3.0, 1.0, 2.0, 2.0, 0.5],
            &[-1.0, -5.0, -2.0, -2.0, -9.0],
            &[0.0, f32::NEG_INFINITY, f32::NEG_INFINITY, 1.0, 1.0],
            &[7.0, 7.0, 7.0, 7.0, 7.0],
        ];
        let sets: [&[usize]; 5] = [&[], &[0], &[1, 2], &[2, 3, 4], &[0, 1, 2, 3, 4]];
        for row in rows {
            for allowed in sets {
                let r: Vec<f32> = (0..row.len())
                    .map(|c| {
                        if allowed.contains(&c) {
                            row[c]
                        } else {
                            f32::NEG_INFINITY
                        }
                    })
                    .collect();
                assert_eq!(
                    restricted_argmax(row, allowed),
                    rcic_core::argmax(&r),
                    "{row:?} {allowed:?}"
                );
            }
        }
    }
}
