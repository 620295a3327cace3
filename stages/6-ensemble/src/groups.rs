//! Section 9 step 3: which plate holds which treatment group. Per experiment,
//! count for every plate how many wells' argmax falls in each group, divide
//! each group's column by its total over the plates, and take the
//! permutation of groups over the plates with the highest summed score (the
//! first in `itertools.permutations` order among equal scores, as the
//! reference's stable sort). The margin is the best score minus the
//! runner-up's. Then every class outside a plate's group counts as minus
//! infinity: [`restricted_argmax`] and the assignment ([`crate::assign`]) see
//! the well's logits that way, without rewriting them.
//!
//! Beyond the reference's hard-coded 4: groups and plates come from the data;
//! an experiment with P plates present chooses P of the G groups
//! (permutations of length P), and a group column whose total is 0 scores 0
//! (the reference would divide by zero).

use std::collections::BTreeMap;

use rcic_core::DatasetIndex;

/// Whether a chosen assignment matches the known one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Correct,
    Incorrect,
    /// Nothing known to compare with.
    Prediction,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Correct => "correct_assignment",
            Status::Incorrect => "incorrect_assignment",
            Status::Prediction => "prediction",
        }
    }

    fn of(known: Option<&[usize]>, plates: &[u8], perm: &[usize]) -> Self {
        match known {
            None => Status::Prediction,
            Some(k) => {
                let ok = plates
                    .iter()
                    .zip(perm)
                    .all(|(&p, &g)| k.get(p as usize - 1) == Some(&g));
                if ok {
                    Status::Correct
                } else {
                    Status::Incorrect
                }
            }
        }
    }
}

/// The group assignment of one experiment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupChoice {
    pub split: String,
    pub experiment: String,
    /// Plates present, ascending.
    pub plates: Vec<u8>,
    /// Group of each plate in `plates`.
    pub permutation: Vec<usize>,
    pub score: f64,
    /// Best score minus the runner-up's (0 with one permutation).
    pub margin: f64,
    /// Against the dataset's known assignment (labelled experiments).
    pub status: Status,
    /// Against the truth file's labels, when given.
    pub truth_status: Option<Status>,
    pub wells: usize,
    /// Wells per plate (rows) whose argmax is in each group (columns).
    pub counts: Vec<Vec<u32>>,
}

/// `itertools.permutations(range(g), p)` in its order.
pub fn permutations(g: usize, p: usize) -> Vec<Vec<usize>> {
    fn rec(
        g: usize,
        p: usize,
        cur: &mut Vec<usize>,
        used: &mut Vec<bool>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if cur.len() == p {
            out.push(cur.clone());
            return;
        }
        for j in 0..g {
            if !used[j] {
                used[j] = true;
                cur.push(j);
                rec(g, p, cur, used, out);
                cur.pop();
                used[j] = false;
            }
        }
    }
    let mut out = Vec::new();
    if p <= g {
        rec(g, p, &mut Vec::new(), &mut vec![false; g], &mut out);
    }
    out
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
) -> (Vec<GroupChoice>, Vec<usize>) {
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
        let totals: Vec<u32> = (0..ngroups)
            .map(|g| counts.iter().map(|c| c[g]).sum())
            .collect();
        let scs: Vec<Vec<f64>> = counts
            .iter()
            .map(|c| {
                c.iter()
                    .zip(&totals)
                    .map(|(&x, &t)| if t == 0 { 0.0 } else { x as f64 / t as f64 })
                    .collect()
            })
            .collect();
        let perms = permutations(ngroups, plate_ids.len());
        let scores: Vec<f64> = perms
            .iter()
            .map(|perm| {
                let mut s = 0.0f64;
                for (i, &j) in perm.iter().enumerate() {
                    s += scs[i][j];
                }
                s
            })
            .collect();
        // Stable sort by -score: the first best, then the first of the rest.
        let mut order: Vec<usize> = (0..perms.len()).collect();
        order.sort_by(|&a, &b| {
            scores[b]
                .partial_cmp(&scores[a])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let best = order[0];
        let margin = if order.len() > 1 {
            scores[best] - scores[order[1]]
        } else {
            0.0
        };
        let perm = perms[best].clone();
        let known = index.groups.assignment.get(exp).map(|v| v.as_slice());
        let status = Status::of(known, &plate_ids, &perm);
        // The true group of each plate from the truth labels (first well
        // with one), when every plate has one.
        let true_groups: Option<Vec<usize>> = plates
            .values()
            .map(|pos| pos.iter().find_map(|&i| truth_group(wells[i])))
            .collect();
        let truth_status = true_groups.map(|t| {
            if t == perm {
                Status::Correct
            } else {
                Status::Incorrect
            }
        });
        for (k, pos) in plates.values().enumerate() {
            for &i in pos {
                well_group[i] = perm[k];
            }
        }
        choices.push(GroupChoice {
            split: split.to_string(),
            experiment: exp.to_string(),
            plates: plate_ids,
            permutation: perm,
            score: scores[best],
            margin,
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
/// as minus infinity: exactly [`crate::scores::argmax`] of that row (a
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
                    crate::scores::argmax(&r),
                    "{row:?} {allowed:?}"
                );
            }
        }
    }

    #[test]
    fn permutations_in_itertools_order() {
        assert_eq!(
            permutations(3, 3),
            vec![
                vec![0, 1, 2],
                vec![0, 2, 1],
                vec![1, 0, 2],
                vec![1, 2, 0],
                vec![2, 0, 1],
                vec![2, 1, 0]
            ]
        );
        assert_eq!(permutations(3, 2).len(), 6);
        assert_eq!(permutations(4, 4).len(), 24);
        assert!(permutations(2, 3).is_empty());
    }
}
