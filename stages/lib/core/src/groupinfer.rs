//! Inferring which plate group each plate of an unlabelled experiment holds,
//! from predictions (docs/method.md section 9 step 3, also used by pseudo-
//! labelling): count per plate how many wells' argmax falls in each group,
//! normalise each group's column over the plates (a column whose total is 0
//! scores 0), and pick the assignment of distinct groups to plates with the
//! highest summed score. P plates choose among G >= P groups; ties go to the
//! first assignment in `itertools.permutations(range(G), P)` order (the
//! reference's stable sort). The one inference of the project: training's
//! pseudo-labelling and the ensemble both call it.

/// The chosen assignment and how sure it is.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupChoice {
    /// Group index of plate 1, 2, ...
    pub assignment: Vec<usize>,
    pub score: f64,
    /// Best score minus the runner-up's (0 when there is no runner-up).
    pub margin: f64,
}

/// `counts[plate][group]`: wells of the plate whose argmax is in the group.
/// Ties go to the lexicographically first assignment (itertools' order); the
/// scores are summed plate by plate from 0.0, as the reference sums them.
/// Needs plates <= groups.
pub fn choose_assignment(counts: &[Vec<f64>]) -> GroupChoice {
    let plates = counts.len();
    let groups = counts.first().map_or(0, Vec::len);
    assert!(plates <= groups, "{plates} plates but only {groups} groups");
    let totals: Vec<f64> = (0..groups)
        .map(|g| counts.iter().map(|r| r[g]).sum())
        .collect();
    let norm: Vec<Vec<f64>> = counts
        .iter()
        .map(|r| {
            (0..groups)
                .map(|g| {
                    if totals[g] > 0.0 {
                        r[g] / totals[g]
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let mut best: Option<(f64, Vec<usize>)> = None;
    let mut second = f64::NEG_INFINITY;
    let mut current = Vec::with_capacity(plates);
    let mut used = vec![false; groups];
    fn walk(
        norm: &[Vec<f64>],
        current: &mut Vec<usize>,
        used: &mut [bool],
        score: f64,
        best: &mut Option<(f64, Vec<usize>)>,
        second: &mut f64,
    ) {
        let p = current.len();
        if p == norm.len() {
            match best {
                Some((b, _)) if score <= *b => {
                    if score > *second {
                        *second = score;
                    }
                }
                _ => {
                    if let Some((b, _)) = best {
                        *second = *b;
                    }
                    *best = Some((score, current.clone()));
                }
            }
            return;
        }
        for g in 0..used.len() {
            if !used[g] {
                used[g] = true;
                current.push(g);
                walk(norm, current, used, score + norm[p][g], best, second);
                current.pop();
                used[g] = false;
            }
        }
    }
    walk(&norm, &mut current, &mut used, 0.0, &mut best, &mut second);
    let (score, assignment) = best.unwrap_or((0.0, Vec::new()));
    GroupChoice {
        assignment,
        score,
        margin: if second.is_finite() {
            score - second
        } else {
            0.0
        },
    }
}

/// Per-plate group counts from argmax classes: `wells` as (plate 1-based, argmax class).
pub fn count_groups(
    wells: impl IntoIterator<Item = (u8, u32)>,
    plates: usize,
    group_of: impl Fn(u32) -> Option<usize>,
    groups: usize,
) -> Vec<Vec<f64>> {
    let mut c = vec![vec![0.0; groups]; plates];
    for (p, class) in wells {
        if let Some(g) = group_of(class) {
            c[p as usize - 1][g] += 1.0;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_rotation_the_counts_support() {
        // Plate p mostly predicts group (p + 1) % 4.
        let mut counts = vec![vec![1.0; 4]; 4];
        for p in 0..4 {
            counts[p][(p + 1) % 4] = 20.0;
        }
        let c = choose_assignment(&counts);
        assert_eq!(c.assignment, [1, 2, 3, 0]);
        assert!(c.margin > 0.0);
        assert!((c.score - 4.0 * 20.0 / 23.0).abs() < 1e-12);
    }

    #[test]
    fn ties_go_to_the_first_assignment_and_margin_is_zero() {
        let c = choose_assignment(&vec![vec![1.0; 4]; 4]);
        assert_eq!(c.assignment, [0, 1, 2, 3]);
        assert_eq!(c.margin, 0.0);
    }

    #[test]
    fn fewer_plates_than_groups_zero_columns_and_no_runner_up() {
        // 2 plates of 3 groups; group 2 has no wells (scores 0).
        let c = choose_assignment(&[vec![0.0, 3.0, 0.0], vec![2.0, 1.0, 0.0]]);
        assert_eq!(c.assignment, [1, 0]);
        assert!((c.score - 1.75).abs() < 1e-12);
        assert!((c.margin - 0.75).abs() < 1e-12, "{c:?}");
        // Ties among permutations of length 2: the first in itertools order.
        let c = choose_assignment(&[vec![1.0, 1.0, 1.0], vec![1.0, 1.0, 1.0]]);
        assert_eq!(
            (c.assignment.as_slice(), c.margin),
            ([0, 1].as_slice(), 0.0)
        );
        // One plate, one group: no runner-up, margin 0.
        let c = choose_assignment(&[vec![5.0]]);
        assert_eq!(
            (c.assignment.as_slice(), c.score, c.margin),
            ([0].as_slice(), 1.0, 0.0)
        );
    }
}
