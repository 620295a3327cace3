//! Training/validation sets on a hand-made dataset, and the pseudo-labelling
//! selection on a hand-made logits table.

use std::collections::{BTreeSet, HashMap};

use rcic_core::{AliasConfig, DatasetIndex, Folds, IndexOptions, WellType};
use rcic_train::pseudo::{progress, select, Candidate};
use rcic_train::samples::{build, Pool};
use rcic_train::sizefunc::SizeFunc;

fn index() -> (tempfile::TempDir, DatasetIndex) {
    let d = tempfile::tempdir().unwrap();
    rcic_testkit::csv_sets::write(
        d.path(),
        &[
            ("A-01", true, 0),
            ("A-02", true, 1),
            ("B-01", true, 3),
            ("A-03", false, 2),
            ("B-02", false, 0),
        ],
        Some(("B-02", "A-02")),
    );
    let opts = IndexOptions {
        aliases: AliasConfig::List(vec!["B-02=A-02:1".parse().unwrap()]),
        ..Default::default()
    };
    let ix = DatasetIndex::load(d.path(), &opts).unwrap();
    (d, ix)
}

#[test]
fn sets_follow_the_fold_controls_and_alias_rules() {
    let (_d, ix) = index();
    let folds = Folds::new(&ix, 0);
    let s = build(&ix, &folds, 0, true).unwrap();
    let name = |w: usize| ix.experiments[ix.wells[w].experiment].name.as_str();
    let val: BTreeSet<&str> = s.val.iter().map(|x| name(x.well)).collect();
    assert_eq!(val.iter().copied().collect::<Vec<_>>(), folds.folds[0]);
    // Training treatments: labelled experiments not in the fold (alias target included).
    for x in &s.train {
        let w = &ix.wells[x.well];
        if w.well_type == WellType::Treatment {
            assert!(!val.contains(name(x.well)));
            assert_eq!(Some(x.label), w.label);
        }
    }
    assert!(
        s.train
            .iter()
            .any(|x| name(x.well) == "B-02" && ix.wells[x.well].well_type == WellType::Treatment)
            || val.contains("B-02")
    );
    // All controls, test experiments' too, two sites each.
    let controls = ix
        .wells
        .iter()
        .filter(|w| w.well_type != WellType::Treatment)
        .count();
    assert_eq!(
        s.train
            .iter()
            .filter(|x| ix.wells[x.well].well_type != WellType::Treatment)
            .count(),
        2 * controls
    );
    // Without all-controls, only training experiments' controls.
    let s2 = build(&ix, &folds, 0, false).unwrap();
    assert!(s2
        .train
        .iter()
        .all(|x| s2.train_experiments.iter().any(|e| e == name(x.well))));
    // The pseudo-label pool: validation wells then test wells, alias target excluded.
    assert!(s
        .pl_pool
        .iter()
        .all(|&(p, w)| (p == Pool::Val) == val.contains(name(w))));
    assert!(s.pl_pool.iter().all(|&(_, w)| name(w) != "B-02"));
    assert!(s
        .pl_pool
        .iter()
        .any(|&(p, w)| p == Pool::Test && name(w) == "A-03"));
    let firsts: Vec<Pool> = s.pl_pool.iter().map(|p| p.0).collect();
    assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
    // No validation: everything trains.
    let all = build(&ix, &folds, -1, true).unwrap();
    assert!(all.val.is_empty());
    assert!(all.train.len() > s.train.len());
    assert!(build(&ix, &folds, 9, true)
        .unwrap_err()
        .to_string()
        .contains("--cv-number 9"));
}

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
