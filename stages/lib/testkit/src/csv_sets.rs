//! Hand-made CSV sets (Kaggle competition layout, and the same sets as a
//! public-release metadata.csv) for tests of every crate: 8 treatments
//! in 4 groups of 2, two controls (8 positive, 9 negative), every plate 2
//! treatments + 2 controls. Small enough to reason about by hand. They
//! panic on I/O errors, as test helpers may.

use std::fmt::Write as _;
use std::path::Path;

pub const GROUPS: [[u32; 2]; 4] = [[0, 5], [1, 4], [2, 7], [3, 6]];
pub const WELLS: [&str; 4] = ["B02", "B03", "C02", "C03"];

/// One well of a hand-made set: (experiment, is_train, plate, well, sirna).
type Row<'a> = (&'a str, bool, usize, &'static str, u32);

/// Every well of the set, in (experiment list, plate, well) order.
fn rows<'a>(experiments: &[(&'a str, bool, usize)], alias: Option<(&str, &str)>) -> Vec<Row<'a>> {
    let rot_of = |e: &str| experiments.iter().find(|x| x.0 == e).unwrap().2;
    let mut out = Vec::new();
    for &(e, is_train, rot) in experiments {
        for p in 1..=4usize {
            // An alias target copies its source's layout, plates shifted by one.
            let (rot, layout_plate) = match alias {
                Some((t, s)) if t == e => (rot_of(s), (p + 2) % 4 + 1),
                _ => (rot, p),
            };
            let g = GROUPS[(layout_plate - 1 + rot) % 4];
            let sirnas = [g[0], g[1], 8, 9];
            for (i, w) in WELLS.iter().enumerate() {
                out.push((e, is_train, p, *w, sirnas[(i + layout_plate) % 4]));
            }
        }
    }
    out
}

fn well_type(s: u32) -> &'static str {
    match s {
        9 => "negative_control",
        8 => "positive_control",
        _ => "treatment",
    }
}

/// (experiment, is_train, rotation)
pub fn write(dir: &Path, experiments: &[(&str, bool, usize)], alias: Option<(&str, &str)>) {
    let mut train = String::from("id_code,experiment,plate,well,sirna\n");
    let mut test = String::from("id_code,experiment,plate,well\n");
    let mut train_c = String::from("id_code,experiment,plate,well,sirna,well_type\n");
    let mut test_c = train_c.clone();
    for (e, is_train, p, w, s) in rows(experiments, alias) {
        let id = format!("{e}_{p}_{w}");
        if s >= 8 {
            let out = if is_train { &mut train_c } else { &mut test_c };
            writeln!(out, "{id},{e},{p},{w},{s},{}", well_type(s)).unwrap();
        } else if is_train {
            writeln!(train, "{id},{e},{p},{w},{s}").unwrap();
        } else {
            writeln!(test, "{id},{e},{p},{w}").unwrap();
        }
    }
    std::fs::write(dir.join("train.csv"), train).unwrap();
    std::fs::write(dir.join("test.csv"), test).unwrap();
    std::fs::write(dir.join("train_controls.csv"), train_c).unwrap();
    std::fs::write(dir.join("test_controls.csv"), test_c).unwrap();
}

/// The same set as [`write`] in the public RxRx1 release's layout: one
/// metadata.csv, one row per site, test rows labelled; siRNA names `sN`
/// (`EMPTY` for the negative control).
pub fn write_public(dir: &Path, experiments: &[(&str, bool, usize)], alias: Option<(&str, &str)>) {
    let mut meta = String::from(
        "site_id,well_id,cell_type,dataset,experiment,plate,well,site,well_type,sirna,sirna_id\n",
    );
    for (e, is_train, p, w, s) in rows(experiments, alias) {
        let id = format!("{e}_{p}_{w}");
        let cell = e.split('-').next().unwrap();
        let split = if is_train { "train" } else { "test" };
        let name = if s == 9 {
            "EMPTY".to_string()
        } else {
            format!("s{s}")
        };
        for site in 1..=2 {
            writeln!(
                meta,
                "{id}_{site},{id},{cell},{split},{e},{p},{w},{site},{},{name},{s}",
                well_type(s)
            )
            .unwrap();
        }
    }
    std::fs::write(dir.join("metadata.csv"), meta).unwrap();
}

/// [`small`] in the public layout.
pub fn small_public(dir: &Path) {
    write_public(dir, &SMALL, None);
}

const SMALL: [(&str, bool, usize); 5] = [
    ("A-01", true, 0),
    ("A-02", true, 1),
    ("B-01", true, 3),
    ("A-03", false, 2),
    ("B-02", false, 0),
];

pub fn small(dir: &Path) {
    write(dir, &SMALL, None);
}

/// [`rxrx1_names`] in the public layout.
pub fn rxrx1_names_public(dir: &Path) {
    rxrx1_names_with(dir, write_public);
}

/// RxRx1's 51 experiment names and split, HUVEC-18 carrying RPE-03's layout.
pub fn rxrx1_names(dir: &Path) {
    rxrx1_names_with(dir, write);
}

type Writer = fn(&Path, &[(&str, bool, usize)], Option<(&str, &str)>);

fn rxrx1_names_with(dir: &Path, write: Writer) {
    let mut ex: Vec<(String, bool, usize)> = Vec::new();
    for (c, train, test) in [
        ("HEPG2", 7, 11),
        ("HUVEC", 16, 24),
        ("RPE", 7, 11),
        ("U2OS", 3, 5),
    ] {
        for i in 1..=test {
            ex.push((format!("{c}-{i:02}"), i <= train, i % 4));
        }
    }
    let refs: Vec<(&str, bool, usize)> = ex.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
    write(dir, &refs, Some(("HUVEC-18", "RPE-03")));
}

/// Replaces the first occurrence of `from` by `to` in a file.
pub fn edit(path: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(s.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, s.replacen(from, to, 1)).unwrap();
}
