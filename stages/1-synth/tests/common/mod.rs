//! Shared helpers of the synth integration tests: running the real binary
//! and checking a generated dataset against RxRx1's structural invariants.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_rcic-synth");

/// Runs rcic-synth with `args`, panicking with its stderr on failure.
pub fn synth(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("rcic-synth runs");
    assert!(
        out.status.success(),
        "rcic-synth {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs rcic-synth expecting failure; returns stderr.
pub fn synth_fails(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("rcic-synth runs");
    assert!(
        !out.status.success(),
        "rcic-synth {args:?} unexpectedly succeeded"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A CSV as header + rows, checking Kaggle's byte format on the way.
pub fn read_csv(path: &Path, header: &str) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = String::from_utf8(bytes).expect("UTF-8");
    assert!(!text.contains('\r'), "{}: CR in file", path.display());
    assert!(!text.contains('"'), "{}: quoting in file", path.display());
    assert!(text.ends_with('\n'), "{}: no final LF", path.display());
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "{}: header", path.display());
    let ncol = header.split(',').count();
    lines
        .map(|l| {
            let f: Vec<String> = l.split(',').map(str::to_string).collect();
            assert_eq!(f.len(), ncol, "{}: row {l:?}", path.display());
            f
        })
        .collect()
}

pub fn well_ok(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() == 3
        && (b'B'..=b'O').contains(&b[0])
        && w[1..]
            .parse::<u32>()
            .map(|c| (2..=23).contains(&c))
            .unwrap_or(false)
}

/// One labelled well of the dataset (train, controls or test truth).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub experiment: String,
    pub plate: u8,
    pub well: String,
    pub sirna: u32,
}

pub struct Dataset {
    pub dir: PathBuf,
    pub truth_dir: PathBuf,
    pub truth: serde_json::Value,
    /// Treatment rows (train + test truth) and control rows, by split.
    pub train: Vec<Row>,
    pub test: Vec<Row>,
    pub train_controls: Vec<Row>,
    pub test_controls: Vec<Row>,
}

fn rows(raw: Vec<Vec<String>>, path: &Path, controls: bool, negative: u32) -> Vec<Row> {
    let mut out = Vec::new();
    for f in raw {
        let plate: u8 = f[2].parse().unwrap();
        assert!(
            (1..=4).contains(&plate),
            "{}: plate {plate}",
            path.display()
        );
        assert!(well_ok(&f[3]), "{}: well {}", path.display(), f[3]);
        assert_eq!(
            f[0],
            format!("{}_{}_{}", f[1], f[2], f[3]),
            "{}: id_code",
            path.display()
        );
        let sirna: u32 = f[4].parse().unwrap();
        if controls {
            let kind = if sirna == negative {
                "negative_control"
            } else {
                "positive_control"
            };
            assert_eq!(f[5], kind, "{}: well_type of sirna {sirna}", path.display());
        }
        out.push(Row {
            experiment: f[1].clone(),
            plate,
            well: f[3].clone(),
            sirna,
        });
    }
    // Sorted by experiment, plate, well (Kaggle order).
    let keys: Vec<_> = out
        .iter()
        .map(|r| (r.experiment.clone(), r.plate, r.well.clone()))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "{}: rows not sorted/unique",
        path.display()
    );
    out
}

impl Dataset {
    pub fn load(dir: &Path, truth_dir: &Path) -> Dataset {
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(truth_dir.join("truth.json")).unwrap())
                .unwrap();
        let neg = truth["negative_control"].as_u64().unwrap() as u32;
        let train = rows(
            read_csv(
                &dir.join("train.csv"),
                "id_code,experiment,plate,well,sirna",
            ),
            dir,
            false,
            neg,
        );
        let test_plain = read_csv(&dir.join("test.csv"), "id_code,experiment,plate,well");
        let test = rows(
            read_csv(
                &truth_dir.join("test_truth.csv"),
                "id_code,experiment,plate,well,sirna",
            ),
            truth_dir,
            false,
            neg,
        );
        assert_eq!(test_plain.len(), test.len());
        for (a, b) in test_plain.iter().zip(&test) {
            assert_eq!(
                (&a[1], a[2].parse::<u8>().unwrap(), &a[3]),
                (&b.experiment, b.plate, &b.well),
                "test.csv vs truth"
            );
        }
        let h = "id_code,experiment,plate,well,sirna,well_type";
        let train_controls = rows(read_csv(&dir.join("train_controls.csv"), h), dir, true, neg);
        let test_controls = rows(read_csv(&dir.join("test_controls.csv"), h), dir, true, neg);
        Dataset {
            dir: dir.into(),
            truth_dir: truth_dir.into(),
            truth,
            train,
            test,
            train_controls,
            test_controls,
        }
    }

    pub fn treatments(&self) -> u32 {
        self.truth["treatments"].as_u64().unwrap() as u32
    }
    pub fn controls(&self) -> u32 {
        self.truth["controls"].as_u64().unwrap() as u32
    }

    /// experiment -> plate -> well -> sirna over every labelled well.
    pub fn plates(&self) -> BTreeMap<String, BTreeMap<u8, BTreeMap<String, u32>>> {
        let mut m: BTreeMap<String, BTreeMap<u8, BTreeMap<String, u32>>> = BTreeMap::new();
        for r in self
            .train
            .iter()
            .chain(&self.test)
            .chain(&self.train_controls)
            .chain(&self.test_controls)
        {
            let prev = m
                .entry(r.experiment.clone())
                .or_default()
                .entry(r.plate)
                .or_default()
                .insert(r.well.clone(), r.sirna);
            assert!(
                prev.is_none(),
                "well {} {} {} listed twice",
                r.experiment,
                r.plate,
                r.well
            );
        }
        m
    }

    /// Checks every structural invariant of RxRx1.
    pub fn check_structure(&self) {
        let t = self.treatments();
        let c = self.controls();
        assert_eq!(t % 4, 0);
        // Groups: 4 disjoint sets of T/4 covering 0..T.
        let groups: Vec<BTreeSet<u32>> = self.truth["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                g.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as u32)
                    .collect()
            })
            .collect();
        assert_eq!(groups.len(), 4);
        assert!(groups.iter().all(|g| g.len() == (t / 4) as usize));
        let union: BTreeSet<u32> = groups.iter().flatten().copied().collect();
        assert_eq!(union, (0..t).collect());
        let exps: BTreeMap<String, &serde_json::Value> = self.truth["experiments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e))
            .collect();
        let plates = self.plates();
        assert_eq!(
            plates.keys().collect::<Vec<_>>(),
            exps.keys().collect::<Vec<_>>()
        );
        for (name, ps) in &plates {
            let info = exps[name];
            assert_eq!(
                info["cell_type"].as_str().unwrap(),
                name.split('-').next().unwrap()
            );
            let split = info["split"].as_str().unwrap();
            let in_train = self
                .train
                .iter()
                .chain(&self.train_controls)
                .any(|r| &r.experiment == name);
            assert_eq!(in_train, split == "train", "{name}: split");
            assert_eq!(ps.len(), 4, "{name}: plates");
            let rot = info["rotation"].as_u64().unwrap() as usize;
            let mut seen_groups = BTreeSet::new();
            for (&p, wells) in ps {
                assert_eq!(wells.len(), (t / 4 + c) as usize, "{name} plate {p}: wells");
                let treat: BTreeSet<u32> = wells.values().copied().filter(|&s| s < t).collect();
                let ctrl: BTreeSet<u32> = wells.values().copied().filter(|&s| s >= t).collect();
                assert_eq!(
                    treat.len() + ctrl.len(),
                    wells.len(),
                    "{name} plate {p}: a siRNA twice"
                );
                assert_eq!(ctrl, (t..t + c).collect(), "{name} plate {p}: controls");
                let g = info["plate_groups"][p.to_string()].as_u64().unwrap() as usize;
                assert_eq!(g, (p as usize - 1 + rot) % 4, "{name} plate {p}: rotation");
                assert_eq!(treat, groups[g], "{name} plate {p}: not exactly group {g}");
                seen_groups.insert(g);
            }
            assert_eq!(seen_groups.len(), 4, "{name}: every group once");
        }
        for a in self.truth["aliases"].as_array().unwrap() {
            let (target, source) = (a["target"].as_str().unwrap(), a["source"].as_str().unwrap());
            let shift = a["shift"].as_i64().unwrap();
            for p in 1..=4i64 {
                let sp = ((p - 1 - shift).rem_euclid(4) + 1) as u8;
                assert_eq!(
                    plates[target][&(p as u8)],
                    plates[source][&sp],
                    "alias {target} plate {p} <- {source} plate {sp}"
                );
            }
        }
    }
}

/// blake3 of every file under `root`, by relative path.
pub fn tree_hashes(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(
                    rel,
                    blake3::hash(&std::fs::read(&p).unwrap())
                        .to_hex()
                        .to_string(),
                );
            }
        }
    }
    out
}
