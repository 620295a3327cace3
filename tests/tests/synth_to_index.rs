//! The synthetic generator's output loads in the dataset index, and the
//! index recovers what the generator put in: plate groups, every labelled
//! experiment's plate-to-group assignment, the layout alias and its labels.

use std::collections::{BTreeMap, BTreeSet};

use rcic_core::{
    AliasConfig, DatasetIndex, Folds, IndexOptions, LabelSource, LayoutAlias, Split, WellType,
};
use rcic_testkit::run_ok;

struct Truth {
    groups: Vec<BTreeSet<u32>>,
    plate_groups: BTreeMap<String, Vec<usize>>,
    aliases: Vec<LayoutAlias>,
}

fn read_truth(path: &std::path::Path) -> Truth {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let groups = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        })
        .collect();
    let mut plate_groups = BTreeMap::new();
    for e in v["experiments"].as_array().unwrap() {
        let pg = e["plate_groups"].as_object().unwrap();
        let a: Vec<usize> = (1..=pg.len())
            .map(|p| pg[&p.to_string()].as_u64().unwrap() as usize)
            .collect();
        plate_groups.insert(e["name"].as_str().unwrap().to_string(), a);
    }
    let aliases = v["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| LayoutAlias {
            target: a["target"].as_str().unwrap().into(),
            source: a["source"].as_str().unwrap().into(),
            shift: a["shift"].as_i64().unwrap() as i32,
        })
        .collect();
    Truth {
        groups,
        plate_groups,
        aliases,
    }
}

/// The index's groups equal the truth's as sets; returns truth group -> index group.
fn group_map(ix: &DatasetIndex, truth: &Truth) -> Vec<usize> {
    assert_eq!(ix.groups.groups.len(), truth.groups.len());
    truth
        .groups
        .iter()
        .map(|g| {
            ix.groups
                .groups
                .iter()
                .position(|h| h == g)
                .expect("every true group recovered")
        })
        .collect()
}

#[test]
fn tiny_with_images_is_recovered_by_the_index() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("tiny");
    run_ok(
        "rcic-synth",
        &[
            "--preset",
            "tiny",
            "--out",
            data.to_str().unwrap(),
            "--seed",
            "3",
        ],
    );
    let truth = read_truth(&d.path().join("tiny-truth/truth.json"));
    assert_eq!(truth.aliases.len(), 1, "tiny has one layout alias");
    let opts = IndexOptions {
        aliases: AliasConfig::List(truth.aliases.clone()),
        ..Default::default()
    };
    let ix = DatasetIndex::load(&data, &opts).unwrap();
    assert_eq!(ix.cell_types.len(), 2);
    assert!(ix.experiments.len() <= 8);
    let map = group_map(&ix, &truth);
    for (name, want) in &truth.plate_groups {
        let e = &ix.experiments[ix.experiment(name).unwrap()];
        if e.split == Split::Train || truth.aliases.iter().any(|a| &a.target == name) {
            let got = &ix.groups.assignment[name];
            let want: Vec<usize> = want.iter().map(|&g| map[g]).collect();
            assert_eq!(got, &want, "{name}");
        }
    }
    // The alias target's treatments carry the true test labels.
    let alias = &truth.aliases[0];
    let mut truth_csv = csv::Reader::from_path(d.path().join("tiny-truth/test_truth.csv")).unwrap();
    let labels: BTreeMap<String, u32> = truth_csv
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_string(), r[4].parse().unwrap()))
        .collect();
    let t = ix.experiment(&alias.target).unwrap();
    let mut n = 0;
    for w in ix
        .wells
        .iter()
        .filter(|w| w.experiment == t && w.well_type == WellType::Treatment)
    {
        assert_eq!(w.label_source, LabelSource::Alias);
        assert_eq!(w.label, Some(labels[&ix.id_code(w)]), "{}", ix.id_code(w));
        n += 1;
    }
    assert!(n > 0);
    // Every site's six images exist.
    for s in ix.sites() {
        for c in 1..=6 {
            assert!(ix.image_path(s.well, s.site, c).is_file());
        }
    }
    let folds = Folds::new(&ix, 0);
    assert!(folds.labelled.contains(&alias.target));
    assert!(folds.folds.iter().all(|f| !f.is_empty()));
}

#[test]
fn rxrx1_structure_is_recovered_with_the_default_alias_and_reference_folds() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("rxrx1");
    run_ok(
        "rcic-synth",
        &[
            "--preset",
            "rxrx1",
            "--no-images",
            "--out",
            data.to_str().unwrap(),
            "--seed",
            "0",
        ],
    );
    let truth = read_truth(&d.path().join("rxrx1-truth/truth.json"));
    let ix = DatasetIndex::load(&data, &IndexOptions::default()).unwrap();
    assert_eq!(ix.experiments.len(), 51);
    assert_eq!(
        (ix.treatments, ix.classes, ix.negative_control),
        (1108, 1139, Some(1138))
    );
    assert_eq!(ix.aliases, vec![LayoutAlias::rxrx1()]);
    assert_eq!(truth.aliases, vec![LayoutAlias::rxrx1()]);
    assert!(ix.groups.groups.iter().all(|g| g.len() == 277));
    let map = group_map(&ix, &truth);
    for name in ix.groups.assignment.keys() {
        let want: Vec<usize> = truth.plate_groups[name].iter().map(|&g| map[g]).collect();
        assert_eq!(ix.groups.assignment[name], want, "{name}");
    }
    assert!(ix.groups.assignment.contains_key("HUVEC-18"));
    assert_eq!(ix.wells.len(), 51 * 4 * 308);
    // The folds depend on names only: the reference's fold 0 for seed 0.
    let folds = Folds::new(&ix, 0);
    assert_eq!(
        folds.folds[0],
        ["HEPG2-03", "HEPG2-05", "HUVEC-02", "HUVEC-14", "RPE-04", "U2OS-02"]
    );
    assert_eq!(
        folds.folds.iter().map(Vec::len).collect::<Vec<_>>(),
        [6, 7, 6, 6, 6, 6]
    );
}
