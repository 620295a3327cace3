//! Linear sum assignment, exact, on f64: the shortest-augmenting-path method
//! of Jonker and Volgenant with dual potentials (the Hungarian method in its
//! O(n^2 m) form), for rectangular problems with n rows <= m columns.
//!
//! The ensemble maximises summed logits per plate: [`maximize`] takes a
//! row-major `n x m` score matrix where minus infinity stands for "class not
//! allowed", replaces it by `-1e10` exactly as the reference does, and returns
//! the column of every row (all distinct).
//!
//! Deterministic tie-breaking (documented in data-schemas/submission.md):
//! rows are inserted in order 0..n; in every Dijkstra step the column with
//! the smallest tentative distance is taken; among equals an unassigned
//! column wins, else the first in scan order (the remaining columns start in
//! descending index order and a taken column is replaced by the last one, as
//! in scipy's `rectangular_lsap`). The same matrix always gives the same
//! assignment. When several assignments reach the optimum, the one chosen may
//! differ from scipy's (it does not reduce columns); the optimum value is the
//! same.
//!
//! Columns that are minus infinity in every row are interchangeable: only the
//! first `n` of them (lowest indices) are kept in the solved problem, which
//! does not change the optimum, and makes a plate with a 277-class group a
//! 277 x 277 problem instead of 277 x 1108.

/// What minus infinity becomes, as in the reference.
pub const NEG_INF_REPLACEMENT: f64 = -1e10;

/// Columns of an `n x m` minimisation problem (n <= m) solved exactly.
/// `cost` is row-major and finite. Returns the column of every row.
///
/// One shortest augmenting path per row (Dijkstra on reduced costs over the
/// columns not yet reached, kept in a `remaining` list), dual potentials
/// updated once per augmentation (Crouse's formulation of Jonker-Volgenant,
/// the method behind scipy's `linear_sum_assignment`).
pub fn minimize(cost: &[f64], n: usize, m: usize) -> Vec<usize> {
    assert!(
        n <= m,
        "linear sum assignment needs rows <= columns ({n} > {m})"
    );
    assert_eq!(cost.len(), n * m);
    const FREE: usize = usize::MAX;
    let mut u = vec![0f64; n];
    let mut v = vec![0f64; m];
    let mut shortest = vec![f64::INFINITY; m];
    let mut path = vec![FREE; m];
    let mut col4row = vec![FREE; n];
    let mut row4col = vec![FREE; m];
    // Rows and columns reached by the current search (each once), so that
    // resetting and updating touch only them.
    let mut sr: Vec<usize> = Vec::with_capacity(n);
    let mut sc: Vec<usize> = Vec::with_capacity(m);
    let mut remaining = vec![0usize; m];
    for cur in 0..n {
        // Dijkstra from row `cur` to the nearest free column. Its first
        // step scans every column, remaining in descending order (position
        // k holds column m - 1 - k), from distance infinity: it sets every
        // `shortest`, and the list itself is built only if the search goes
        // on.
        sr.clear();
        sc.clear();
        sr.push(cur);
        let row = &cost[cur * m..(cur + 1) * m];
        let base = 0f64 - u[cur];
        let mut lowest = f64::INFINITY;
        let mut index = FREE;
        for k in 0..m {
            let j = m - 1 - k;
            let r = base + row[j] - v[j];
            let mut sj = f64::INFINITY;
            if r < sj {
                path[j] = cur;
                sj = r;
            }
            shortest[j] = sj;
            if sj < lowest || (sj == lowest && row4col[j] == FREE) {
                lowest = sj;
                index = k;
            }
        }
        debug_assert!(index != FREE, "finite costs always reach a free column");
        let mut min_val = lowest;
        let mut j = m - 1 - index;
        sc.push(j);
        let sink = if row4col[j] == FREE {
            j
        } else {
            for (k, r) in remaining.iter_mut().enumerate() {
                *r = m - k - 1;
            }
            let mut left = m - 1;
            remaining[index] = remaining[left];
            loop {
                let i = row4col[j];
                sr.push(i);
                let row = &cost[i * m..(i + 1) * m];
                let base = min_val - u[i];
                let mut lowest = f64::INFINITY;
                let mut index = FREE;
                for (k, &j) in remaining[..left].iter().enumerate() {
                    let r = base + row[j] - v[j];
                    let mut sj = shortest[j];
                    if r < sj {
                        path[j] = i;
                        shortest[j] = r;
                        sj = r;
                    }
                    if sj < lowest || (sj == lowest && row4col[j] == FREE) {
                        lowest = sj;
                        index = k;
                    }
                }
                debug_assert!(index != FREE, "finite costs always reach a free column");
                min_val = lowest;
                j = remaining[index];
                sc.push(j);
                left -= 1;
                remaining[index] = remaining[left];
                if row4col[j] == FREE {
                    break j;
                }
            }
        };
        // Dual update for the rows and columns reached.
        u[cur] += min_val;
        for &r in &sr[1..] {
            u[r] += min_val - shortest[col4row[r]];
        }
        for &j in &sc {
            v[j] -= min_val - shortest[j];
        }
        // Augment along the path back to `cur`.
        let mut j = sink;
        loop {
            let r = path[j];
            row4col[j] = r;
            std::mem::swap(&mut col4row[r], &mut j);
            if r == cur {
                break;
            }
        }
    }
    col4row
}

/// Maximises the summed `score` (row-major `n x m`, n <= m) with distinct
/// columns per row; minus infinity is replaced by [`NEG_INF_REPLACEMENT`],
/// all-minus-infinity columns are reduced as the module doc says.
pub fn maximize(score: &[f64], n: usize, m: usize) -> Vec<usize> {
    assert_eq!(score.len(), n * m);
    // Keep every column with a finite entry, and the first n all -inf ones.
    let mut finite = vec![false; m];
    for row in score.chunks_exact(m.max(1)) {
        finite
            .iter_mut()
            .zip(row)
            .for_each(|(f, &x)| *f |= x != f64::NEG_INFINITY);
    }
    let mut keep = Vec::with_capacity(m);
    let mut dead = 0usize;
    for (j, &f) in finite.iter().enumerate() {
        if f {
            keep.push(j);
        } else if dead < n {
            keep.push(j);
            dead += 1;
        }
    }
    let k = keep.len();
    let mut cost = Vec::with_capacity(n * k);
    for i in 0..n {
        for &j in &keep {
            let s = score[i * m + j];
            cost.push(
                -(if s == f64::NEG_INFINITY {
                    NEG_INF_REPLACEMENT
                } else {
                    s
                }),
            );
        }
    }
    minimize(&cost, n, k).into_iter().map(|c| keep[c]).collect()
}

/// Summed score of an assignment, minus infinity replaced as in [`maximize`].
pub fn objective(score: &[f64], m: usize, cols: &[usize]) -> f64 {
    cols.iter()
        .enumerate()
        .map(|(i, &j)| {
            let s = score[i * m + j];
            if s == f64::NEG_INFINITY {
                NEG_INF_REPLACEMENT
            } else {
                s
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The solver as first written (every search resetting all rows and
    /// columns): the oracle of [`minimize`]'s choices, ties included.
    fn minimize_first(cost: &[f64], n: usize, m: usize) -> Vec<usize> {
        assert!(
            n <= m,
            "linear sum assignment needs rows <= columns ({n} > {m})"
        );
        assert_eq!(cost.len(), n * m);
        const FREE: usize = usize::MAX;
        let mut u = vec![0f64; n];
        let mut v = vec![0f64; m];
        let mut shortest = vec![f64::INFINITY; m];
        let mut path = vec![FREE; m];
        let mut col4row = vec![FREE; n];
        let mut row4col = vec![FREE; m];
        let mut sr = vec![false; n];
        let mut sc = vec![false; m];
        let mut remaining = vec![0usize; m];
        for cur in 0..n {
            // Dijkstra from row `cur` to the nearest free column.
            let mut min_val = 0f64;
            let mut left = m;
            for (k, r) in remaining.iter_mut().enumerate() {
                *r = m - k - 1;
            }
            sr.iter_mut().for_each(|x| *x = false);
            sc.iter_mut().for_each(|x| *x = false);
            shortest.iter_mut().for_each(|x| *x = f64::INFINITY);
            let mut i = cur;
            let sink = loop {
                sr[i] = true;
                let row = &cost[i * m..(i + 1) * m];
                let base = min_val - u[i];
                let mut lowest = f64::INFINITY;
                let mut index = FREE;
                for (k, &j) in remaining[..left].iter().enumerate() {
                    let r = base + row[j] - v[j];
                    if r < shortest[j] {
                        path[j] = i;
                        shortest[j] = r;
                    }
                    let sj = shortest[j];
                    if sj < lowest || (sj == lowest && row4col[j] == FREE) {
                        lowest = sj;
                        index = k;
                    }
                }
                debug_assert!(index != FREE, "finite costs always reach a free column");
                min_val = lowest;
                let j = remaining[index];
                sc[j] = true;
                left -= 1;
                remaining[index] = remaining[left];
                if row4col[j] == FREE {
                    break j;
                }
                i = row4col[j];
            };
            // Dual update for the rows and columns reached.
            u[cur] += min_val;
            for r in 0..n {
                if sr[r] && r != cur {
                    u[r] += min_val - shortest[col4row[r]];
                }
            }
            for j in 0..m {
                if sc[j] {
                    v[j] -= min_val - shortest[j];
                }
            }
            // Augment along the path back to `cur`.
            let mut j = sink;
            loop {
                let r = path[j];
                row4col[j] = r;
                std::mem::swap(&mut col4row[r], &mut j);
                if r == cur {
                    break;
                }
            }
        }
        col4row
    }

    #[test]
    fn same_choices_as_the_first_version_ties_included() {
        let mut rng = Lcg(11);
        for case in 0..600 {
            let n = 1 + case % 23;
            let m = n + (case / 23) % 9;
            let cost: Vec<f64> = (0..n * m)
                .map(|_| match case % 3 {
                    // Few distinct values: ties everywhere.
                    0 => (rng.next() * 4.0).floor(),
                    1 => (rng.next() * 40.0).round() / 8.0,
                    _ => rng.next() * 10.0 - 5.0,
                })
                .collect();
            assert_eq!(
                minimize(&cost, n, m),
                minimize_first(&cost, n, m),
                "case {case} {n}x{m}"
            );
        }
    }

    /// Tiny deterministic generator (tests only).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
        }
    }

    /// (number of -inf entries used, summed finite entries): what maximising
    /// with -1e10 in place of -inf optimises, lexicographically, free of the
    /// rounding of 1e10-sized sums.
    fn split(score: &[f64], m: usize, cols: &[usize]) -> (usize, f64) {
        let mut k = 0;
        let mut s = 0.0;
        for (i, &j) in cols.iter().enumerate() {
            let x = score[i * m + j];
            if x == f64::NEG_INFINITY {
                k += 1;
            } else {
                s += x;
            }
        }
        (k, s)
    }

    fn brute(score: &[f64], n: usize, m: usize) -> (usize, f64) {
        fn rec(
            score: &[f64],
            n: usize,
            m: usize,
            cols: &mut Vec<usize>,
            used: &mut Vec<bool>,
            best: &mut (usize, f64),
        ) {
            if cols.len() == n {
                let c = split(score, m, cols);
                if c.0 < best.0 || (c.0 == best.0 && c.1 > best.1) {
                    *best = c;
                }
                return;
            }
            for j in 0..m {
                if !used[j] {
                    used[j] = true;
                    cols.push(j);
                    rec(score, n, m, cols, used, best);
                    cols.pop();
                    used[j] = false;
                }
            }
        }
        let mut best = (usize::MAX, f64::NEG_INFINITY);
        rec(score, n, m, &mut Vec::new(), &mut vec![false; m], &mut best);
        best
    }

    #[test]
    fn optimal_against_brute_force_rectangular_with_minus_infinity() {
        let mut rng = Lcg(7);
        for case in 0..400 {
            let n = 1 + case % 6;
            let m = n + (case / 6) % 3;
            let mut score: Vec<f64> = (0..n * m).map(|_| rng.next() * 10.0 - 5.0).collect();
            // Some -inf entries, sometimes whole columns and rows.
            for x in score.iter_mut() {
                if rng.next() < 0.3 {
                    *x = f64::NEG_INFINITY;
                }
            }
            if case % 5 == 0 {
                for i in 0..n {
                    score[i * m] = f64::NEG_INFINITY;
                }
            }
            // Integer-valued cases have many ties.
            if case % 4 == 1 {
                for x in score.iter_mut().filter(|x| x.is_finite()) {
                    *x = x.round();
                }
            }
            let cols = maximize(&score, n, m);
            let mut seen = cols.clone();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), n, "case {case}: columns not distinct");
            let got = split(&score, m, &cols);
            let want = brute(&score, n, m);
            // Sums next to 1e10-sized costs keep ~1e-6 of precision.
            let tol = if want.0 > 0 { 1e-4 } else { 1e-9 };
            assert!(
                got.0 == want.0 && (got.1 - want.1).abs() <= tol,
                "case {case} {n}x{m}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn deterministic_on_ties() {
        let score = vec![1.0; 9];
        assert_eq!(maximize(&score, 3, 3), maximize(&score, 3, 3));
        assert_eq!(maximize(&[], 0, 4), Vec::<usize>::new());
    }
}
