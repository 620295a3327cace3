//! The difficulty proxy (nearest centroid on per-image channel statistics),
//! printed for the record; asserts only loose sanity.

mod common;

use common::*;

fn measure(preset: &str, threads: &str) -> rcic_synth::proxy::ProxyReport {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(preset);
    synth(&[
        "--preset",
        preset,
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        "0",
        "--threads",
        threads,
    ]);
    let r = rcic_synth::proxy::measure(&dir, &root.path().join(format!("{preset}-truth"))).unwrap();
    println!("preset {preset}, seed 0, difficulty 1\n{r}");
    r
}

#[test]
fn tiny_difficulty_proxy() {
    let r = measure("tiny", "2");
    let raw = &r.rows[0];
    assert!(
        raw.within > 2.0 * r.chance(),
        "within-experiment accuracy {} vs chance {}",
        raw.within,
        r.chance()
    );
    assert!(r
        .rows
        .iter()
        .all(|x| (0.0..=1.0).contains(&x.within) && (0.0..=1.0).contains(&x.across)));
}

/// The figures in README.md: `cargo test -p rcic-synth --test proxy -- --ignored --nocapture`.
#[test]
#[ignore = "generates the demo preset (seconds at opt-level 1); run for README figures"]
fn demo_difficulty_proxy() {
    let r = measure("demo", "0");
    assert!(r.rows[0].within > 2.0 * r.chance());
}
