//! N shard runs plus a merge publish the artifact of a single run: the same
//! key and byte-identical files (the log aside).

mod common;

use common::*;

fn without_log(dir: &std::path::Path) -> Vec<(String, String)> {
    manifest_files(dir)
        .into_iter()
        .filter(|f| f.0 != "preprocess.log")
        .collect()
}

#[test]
fn sharded_runs_and_merge_equal_a_single_run() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let single_store = d.path().join("single");
    let (single, _) = run_ok(&[
        "--data",
        s(&data),
        "--store",
        s(&single_store),
        "--image-size",
        "8",
        "-q",
    ]);

    // Store mode: 3 shards (8 plates: 3, 3 and 2), run in a scrambled order, then merge.
    let store = d.path().join("sharded");
    let base = [
        "--data",
        s(&data),
        "--store",
        s(&store),
        "--image-size",
        "8",
        "-q",
    ];
    let o = run(&[&base[..], &["--merge", "3"]].concat());
    assert!(!o.status.success(), "merge before the shards must fail");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("shard(s) 0/3, 1/3, 2/3"), "{err}");
    for i in [2, 0, 1] {
        let shard = format!("{i}/3");
        let (dir, _) = run_ok(&[&base[..], &["--shard", &shard]].concat());
        assert!(dir.starts_with(store.join("preprocess-shard")));
    }
    assert!(
        published(&store, "preprocess").is_empty(),
        "shards alone publish no final artifact"
    );
    let (merged, _) = run_ok(&[&base[..], &["--merge", "3"]].concat());
    assert_eq!(merged.file_name(), single.file_name(), "same key");
    assert_eq!(without_log(&merged), without_log(&single));
    let (again, err) = run_ok(&[
        "--data",
        s(&data),
        "--store",
        s(&store),
        "--image-size",
        "8",
        "--merge",
        "3",
    ]);
    assert_eq!(again, merged);
    assert!(err.contains("reused existing artifact"), "{err}");

    // -o mode: shard folders inside OUTDIR, removed by the merge.
    let out = d.path().join("out");
    for i in 0..2 {
        let shard = format!("{i}/2");
        let (dir, _) = run_ok(&[
            "--data",
            s(&data),
            "-o",
            s(&out),
            "--image-size",
            "8",
            "--shard",
            &shard,
            "-q",
        ]);
        assert_eq!(dir, out.join(format!("shard-{i}-of-2")));
    }
    run_ok(&[
        "--data",
        s(&data),
        "-o",
        s(&out),
        "--image-size",
        "8",
        "--merge",
        "2",
        "-q",
    ]);
    assert_eq!(without_log(&out), without_log(&single));
    assert_eq!(
        rcic_core::Artifact::open(&out).unwrap().key(),
        rcic_core::Artifact::open(&single).unwrap().key()
    );
    assert!(!out.join("shard-0-of-2").exists());
    let t = rcic_core::tensors::SiteTensors::open(&out).unwrap();
    assert_eq!(t.len(), 64);
}
