//! The pseudo-labelling selection on a hand-made logits table (the
//! training/validation sets it draws from are tested with
//! `rcic_core::splits`).

use std::collections::{BTreeSet, HashMap};

use rcic_core::splits::Pool;
use rcic_train::pseudo::{progress, select, Candidate};
use rcic_train::sizefunc::SizeFunc;

fn cand(pool: Pool, well: usize, plate: u8, logits: &[f32], truth: Option<u32>) -> Candidate {
    Candidate {
        pool,
        well,
        experiment: 0,
        plate,
        logits: logits.to_vec(),
        truth,
    }
}

#[test]
fn selection_counts_order_masks_and_uniqueness() {
    // 4 treatment classes; plate 1's group is {0, 1, 2}; plate 1 already trains on class 2.
    let group = |_e: usize, p: u8| {
        Some(if p == 1 {
            BTreeSet::from([0, 1, 2])
        } else {
            BTreeSet::from([3])
        })
    };
    let mut taken = HashMap::new();
    taken.insert((0usize, 1u8), BTreeSet::from([2u32]));
    let cands = vec![
        // Best raw class 3 is outside the group, 2 is taken: label 0, conf 5 - 1 = 4.
        cand(Pool::Val, 10, 1, &[5.0, 1.0, 9.0, 20.0], Some(0)),
        // Label 0 again (conf 3): same plate, same label -> not added.
        cand(Pool::Test, 11, 1, &[4.0, 1.0, 0.0, 0.0], None),
        // Label 1, conf 2, wrong for a validation well.
        cand(Pool::Val, 12, 1, &[0.0, 2.0, 0.0, 0.0], Some(0)),
        // Plate 2 allows only class 3: the runner-up is masked, conf huge.
        cand(Pool::Test, 13, 2, &[9.0, 9.0, 9.0, 1.0], None),
        // Low confidence, cut by the target.
        cand(Pool::Test, 14, 1, &[1.0, 1.0, 0.0, 0.0], None),
    ];
    let f: SizeFunc = "0.6*x+0.4".parse().unwrap();
    // x = 1 at the last epoch: 100% of a pool of 5 wells -> n = 5 - already (1) = 4.
    assert_eq!(progress(9, 5, 9), 1.0);
    let already = BTreeSet::from([99usize]);
    let r = select(&cands, 1.0, &f, 5, &already, &group, &taken);
    assert_eq!(r.target, 4);
    assert_eq!(
        r.added,
        vec![(13, 3), (10, 0), (12, 1)],
        "confidence order, uniqueness per plate"
    );
    assert_eq!(
        (r.added_val, r.added_test, r.val_wrong, r.not_added),
        (2, 1, 1, 1)
    );
    assert_eq!(r.threshold, Some(2.0));
    // x at the first pseudo-labelling epoch: round(0.4 * 5) = 2 wells minus the 1 already there.
    let x = progress(5, 5, 9);
    assert!((x - 0.2).abs() < 1e-12);
    let r = select(&cands, x, &f, 5, &already, &group, &taken);
    assert_eq!(r.target, 2);
    assert_eq!(r.added, vec![(13, 3), (10, 0)]);
    // Wells added earlier are not candidates again.
    let r = select(
        &cands,
        1.0,
        &f,
        5,
        &BTreeSet::from([13usize]),
        &group,
        &taken,
    );
    assert!(r.added.iter().all(|&(w, _)| w != 13));
}
