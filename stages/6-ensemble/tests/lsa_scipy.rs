//! The assignment is optimal: its objective equals scipy's
//! `linear_sum_assignment` on plate-sized matrices (277 wells x 1108 classes
//! with minus infinity outside the plate's 277-class group, as after the
//! group step; and dense rectangular ones). Brute force on small matrices is
//! a unit test in src/lsa.rs.

mod common;

use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rcic_ensemble::lsa;

#[test]
fn objective_equals_scipy_on_plate_sized_matrices() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut cases = Vec::new();
    for (k, (n, m, grouped)) in [
        (277, 1108, true),
        (250, 1108, true),
        (277, 277, false),
        (200, 300, false),
    ]
    .into_iter()
    .enumerate()
    {
        let group: Vec<bool> = {
            let mut g = vec![false; m];
            let mut idx: Vec<usize> = (0..m).collect();
            for i in (1..m).rev() {
                idx.swap(i, rng.random_range(0..=i));
            }
            idx.iter()
                .take(if grouped { 277 } else { m })
                .for_each(|&j| g[j] = true);
            g
        };
        let score: Vec<f64> = (0..n * m)
            .map(|x| {
                if group[x % m] {
                    rng.sample::<f64, _>(StandardNormal) * 3.0
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect();
        let path = dir.path().join(format!("m{k}.f64"));
        std::fs::write(
            &path,
            score
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>(),
        )
        .unwrap();
        let cols = lsa::maximize(&score, n, m);
        let mut seen = cols.clone();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), n);
        cases.push((path, n, m, lsa::objective(&score, m, &cols)));
    }
    let script = "import sys, numpy as np\nfrom scipy.optimize import linear_sum_assignment\nfor a in sys.argv[1:]:\n    p, n, m = a.split(':')\n    x = np.fromfile(p, '<f8').reshape(int(n), int(m))\n    x[x == -np.inf] = -1e10\n    r, c = linear_sum_assignment(-x)\n    print(repr(float(x[r, c].sum())))\n";
    let args: Vec<String> = cases
        .iter()
        .map(|(p, n, m, _)| format!("{}:{n}:{m}", p.display()))
        .collect();
    let out = Command::new(common::python())
        .arg("-c")
        .arg(script)
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<f64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    for ((_, n, m, ours), t) in cases.iter().zip(&theirs) {
        assert!(
            (ours - t).abs() <= 1e-9 * t.abs().max(1.0),
            "{n}x{m}: ours {ours}, scipy {t}"
        );
    }
}
