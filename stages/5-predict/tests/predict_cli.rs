//! rcic-predict end to end on the tiny preset: host TTA equals the graph's
//! TTA (and is not applied twice), the ort and tch engines agree, sharded
//! runs merge into the single run's artifact, reruns reuse it, `--load`
//! names its outputs as the reference does, the Parquet reads in pyarrow
//! with the documented schema, and bad input fails before anything is written.

mod common;

use common::*;

#[test]
fn host_tta_equals_tta_inside_the_graph_and_is_not_applied_twice() {
    let f = fixture();
    f.predict_ok(&[
        "--model",
        &f.p("m.onnx"),
        "--tta",
        "8",
        "--tta-size",
        "0.75",
        "-o",
        &f.p("t/host.parquet"),
    ]);
    f.predict_ok(&[
        "--model",
        &f.p("m8.onnx"),
        "--tta",
        "8",
        "-o",
        &f.p("t/graph.parquet"),
    ]);
    f.predict_ok(&["--model", &f.p("m.onnx"), "-o", &f.p("t/none.parquet")]);
    let (h, g, n) = (
        read(&f.root.join("t/host.parquet")),
        read(&f.root.join("t/graph.parquet")),
        read(&f.root.join("t/none.parquet")),
    );
    assert_eq!(
        (h.id_code.clone(), h.site.clone()),
        (g.id_code.clone(), g.site.clone())
    );
    let d = max_abs_diff(&h.logits, &g.logits);
    assert!(d <= 1e-5, "host TTA vs graph TTA: max abs diff {d}");
    assert!(
        max_abs_diff(&h.logits, &n.logits) > 1e-3,
        "TTA should change the logits"
    );
    assert_eq!(
        (h.tta.as_str(), g.tta.as_str(), n.tta.as_str()),
        ("8", "8", "1")
    );
    // Test sites of both test experiments and validation sites of fold 0 (the model's).
    assert!(h.split.iter().any(|s| s == "test") && h.split.iter().any(|s| s == "val"));
    let log = std::fs::read_to_string(f.root.join("t/graph.parquet.log")).unwrap();
    assert!(log.contains("not applied again"), "{log}");
}

#[test]
fn ort_and_tch_engines_agree() {
    let f = fixture();
    f.predict_ok(&[
        "--model",
        &f.p("m.onnx"),
        "--tta",
        "4",
        "-o",
        &f.p("e/ort.parquet"),
    ]);
    f.predict_ok(&[
        "--engine",
        "tch",
        "--load",
        &f.p("ck/m"),
        "--tta",
        "4",
        "-o",
        &f.p("e/tch.parquet"),
    ]);
    let (a, b) = (
        read(&f.root.join("e/ort.parquet")),
        read(&f.root.join("e/tch.parquet")),
    );
    assert_eq!(a.id_code, b.id_code);
    let d = max_abs_diff(&a.logits, &b.logits);
    assert!(d <= 1e-4, "ort vs tch: max abs diff {d}");
}

#[test]
fn shards_merge_into_the_single_runs_artifact_and_reruns_reuse() {
    let f = fixture();
    let single = f.predict_ok(&["--model", &f.p("m.onnx"), "--tta", "2"]);
    let again = f.predict_ok(&["--model", &f.p("m.onnx"), "--tta", "2"]);
    assert_eq!(single, again);
    // Shards in a second store (tensors named explicitly), merged there.
    let tensors = std::fs::read_dir(f.root.join("art/preprocess"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut shards = Vec::new();
    for i in 0..3 {
        let sh = format!("{i}/3");
        shards.push(f.predict_ok(&[
            "--model",
            &f.p("m.onnx"),
            "--tta",
            "2",
            "--tensors",
            tensors.to_str().unwrap(),
            "--store",
            &f.p("s2"),
            "--shard",
            &sh,
        ]));
    }
    let mut args = vec!["--store".to_string(), f.p("s2"), "--merge".into()];
    args.extend(shards.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let merged = run_ok("rcic-predict", &refs);
    let name = |p: &str| std::path::Path::new(p).file_name().unwrap().to_owned();
    assert_eq!(
        name(&merged),
        name(&single),
        "merged artifact key differs from the single run's"
    );
    let (a, b) = (
        read(&std::path::Path::new(&single).join("predictions.parquet")),
        read(&std::path::Path::new(&merged).join("predictions.parquet")),
    );
    assert_eq!(a, b);
    let parts: usize = shards
        .iter()
        .map(|s| read(&std::path::Path::new(s).join("predictions.parquet")).len())
        .sum();
    assert_eq!(parts, a.len());
}

#[test]
fn load_names_outputs_as_the_reference() {
    let f = fixture();
    std::fs::create_dir_all(f.root.join("n")).unwrap();
    std::fs::copy(f.root.join("ck/m"), f.root.join("n/m")).unwrap();
    f.predict_ok(&[
        "--engine",
        "tch",
        "--load",
        &f.p("n/m"),
        "--pred-suffix",
        ".tta1",
    ]);
    assert!(f.root.join("n/m.output.tta1").is_file());
    assert!(f.root.join("n/m.output.log").is_file());
    assert_eq!(read(&f.root.join("n/m.output.tta1")).classes, 36);
}

#[test]
fn pyarrow_reads_the_documented_schema() {
    let f = fixture();
    f.predict_ok(&["--model", &f.p("m.onnx"), "-o", &f.p("py/p.parquet")]);
    let py = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../../.venv/bin/python");
    let script = "import sys, pyarrow.parquet as pq\nt = pq.read_table(sys.argv[1])\nprint(';'.join(f'{x.name}:{x.type}:{x.nullable}' for x in t.schema))\nprint(','.join(sorted(k.decode() for k in t.schema.metadata)))\nprint(t.num_rows, t.schema.metadata[b'classes'].decode(), sorted(set(t['split'].to_pylist())))\nc = pq.ParquetFile(sys.argv[1]).metadata.row_group(0).column(3)\nprint(c.path_in_schema, c.compression, ','.join(sorted(c.encodings)))";
    let o = std::process::Command::new(py)
        .args(["-c", script, &f.p("py/p.parquet")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "split:string:False;id_code:string:False;site:uint8:False;logits:fixed_size_list<item: float not null>[36]:False");
    assert_eq!(lines[1], "classes,model_key,tta");
    assert!(lines[2].ends_with("36 ['test', 'val']"), "{}", lines[2]);
    // The logits are zstd-compressed byte streams (data-schemas/predictions.md).
    assert_eq!(lines[3], "logits.list.item ZSTD BYTE_STREAM_SPLIT,RLE");
    // The document's schema block is the code's schema.
    let doc = std::fs::read_to_string(format!(
        "{}/../../data-schemas/predictions.md",
        std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(
                || std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
                    || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
                    std::path::PathBuf::from
                ),
                std::path::PathBuf::from
            )
            .display()
    ))
    .unwrap();
    let block = doc
        .split("```arrow-schema classes=1139\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert_eq!(
        block,
        rcic_core::schema::render(&rcic_core::schema::predictions_schema(1139))
    );
}

#[test]
fn bad_input_fails_before_any_work() {
    let f = fixture();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--model".into(), f.p("m64.onnx")], "64 x 64"),
        (
            vec![
                "--model".into(),
                f.p("m.onnx"),
                "--device".into(),
                "cuda".into(),
            ],
            "CUDA execution provider",
        ),
        (
            vec!["--model".into(), f.p("m.onnx"), "--fp16".into()],
            "float32 model",
        ),
        (
            vec![
                "--model".into(),
                f.p("m.onnx"),
                "--tta-size".into(),
                "1.5".into(),
            ],
            "--tta-size",
        ),
        (
            vec![
                "--model".into(),
                f.p("m.onnx"),
                "--shard".into(),
                "3/3".into(),
            ],
            "--shard",
        ),
        (vec!["--engine".into(), "tch".into()], "--load"),
        (
            vec![
                "--model".into(),
                f.p("m.onnx"),
                "--tta".into(),
                "100000".into(),
            ],
            "--tta 100000: expected 1 to 64 variants",
        ),
        (
            vec!["--model".into(), f.p("m.onnx"), "--tta".into(), "0".into()],
            "--tta 0: expected 1 to 64 variants",
        ),
    ];
    for (k, (args, want)) in cases.into_iter().enumerate() {
        let out = f.p(&format!("bad/{k}.parquet"));
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(["-o", &out]);
        let o = f.predict(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(want),
            "{a:?}: expected an error with {want:?}, got:\n{err}"
        );
        assert!(!f.root.join("bad").exists(), "{a:?} wrote output");
    }
}

/// The fixture's preprocess artifact folder.
fn tensors_dir(f: &Fixture) -> std::path::PathBuf {
    std::fs::read_dir(f.root.join("art/preprocess"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("manifest.json").is_file())
        .unwrap()
}

#[test]
fn an_output_that_is_a_folder_an_input_or_below_a_file_is_refused_up_front() {
    let f = fixture();
    std::fs::create_dir_all(f.root.join("outs/dir")).unwrap();
    std::fs::write(f.root.join("outs/file"), "x").unwrap();
    let model = f.p("m.onnx");
    let before = std::fs::read(&model).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (f.p("outs/dir"), "is a folder"),
        (f.p("outs/file/p.parquet"), "is not a directory"),
        (model.clone(), "-o {o} is the input --model {model}"),
        (
            f.p("tiny/train.csv"),
            "-o {o} is a file of the input --data",
        ),
        (
            format!("{}/x.parquet", tensors_dir(f).display()),
            "(the input artifact of --store)",
        ),
    ];
    let csv = std::fs::read(f.root.join("tiny/train.csv")).unwrap();
    for (out, want) in cases {
        let o = f.predict(&["--model", &model, "-o", &out]);
        let err = String::from_utf8_lossy(&o.stderr);
        let want = want.replace("{o}", &out).replace("{model}", &model);
        assert!(
            !o.status.success() && err.contains(&want),
            "-o {out}: expected {want:?}, got:\n{err}"
        );
    }
    assert_eq!(
        std::fs::read(&model).unwrap(),
        before,
        "the model is untouched"
    );
    let left: Vec<_> = std::fs::read_dir(f.root.join("outs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "nothing written beside: {left:?}");
    assert_eq!(std::fs::read(f.root.join("tiny/train.csv")).unwrap(), csv);
    assert!(!tensors_dir(f).join("x.parquet").exists());
    // With --tensors the artifact is named by that flag; a checkpoint is
    // not overwritten by -o either.
    let t = tensors_dir(f);
    let o = f.predict(&[
        "--model",
        &model,
        "--tensors",
        t.to_str().unwrap(),
        "-o",
        t.join("pixel_stats.parquet").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("(the input artifact of --tensors)"),
        "{err}"
    );
    let ck = f.p("ck/m");
    let o = f.predict(&["--engine", "tch", "--load", &ck, "-o", &ck]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains(&format!("-o {ck} is the input --load {ck}")),
        "{err}"
    );
    let o = run(
        "rcic-predict",
        &[
            "--model",
            &model,
            "--threads",
            "100000",
            "-o",
            &f.p("outs/t.parquet"),
        ],
    );
    assert!(
        !o.status.success()
            && String::from_utf8_lossy(&o.stderr)
                .contains("invalid value '100000' for '--threads <T>': 100000 is not in 0..=1024"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The merge takes exactly one output of each shard of one --shard I/N
/// run (each shard output says which it is in its `shard` metadata), and
/// the merge of all of them is the single run's file, byte for byte.
#[test]
fn a_merge_needs_every_shard_exactly_once() {
    let f = fixture();
    let model = f.p("m.onnx");
    let mut shards = Vec::new();
    for i in 0..3 {
        let out = f.p(&format!("sh/{i}.parquet"));
        f.predict_ok(&["--model", &model, "--shard", &format!("{i}/3"), "-o", &out]);
        assert_eq!(
            read(std::path::Path::new(&out))
                .shard
                .map(|s| s.to_string()),
            Some(format!("{i}/3"))
        );
        shards.push(out);
    }
    let single = f.p("sh/single.parquet");
    f.predict_ok(&["--model", &model, "-o", &single]);
    assert_eq!(read(std::path::Path::new(&single)).shard, None);
    let other = f.p("sh/two-0.parquet");
    f.predict_ok(&["--model", &model, "--shard", "0/2", "-o", &other]);
    let merge = |parts: &[&str]| {
        let out = f.p("sh/merged.parquet");
        let mut args = vec!["--merge"];
        args.extend_from_slice(parts);
        args.extend(["-o", &out]);
        run("rcic-predict", &args)
    };
    let (s0, s1, s2) = (shards[0].as_str(), shards[1].as_str(), shards[2].as_str());
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec![s0, s1], "shard 2/3 missing".into()),
        (vec![s0], "shards 1/3, 2/3 missing".into()),
        (
            vec![s0, s1, s1],
            format!("shard 1/3 given 2 times ({s1}, {s1}); shard 2/3 missing"),
        ),
        (
            vec![s0, s1, s2, &other],
            format!("{other} is shard 0/2 but {s0} is a shard of 3"),
        ),
        (
            vec![s0, s1, s2, &single],
            format!("{single} is not a shard output"),
        ),
    ];
    for (parts, want) in cases {
        let o = merge(&parts);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(&want),
            "--merge {parts:?}: expected {want:?}, got:\n{err}"
        );
        assert!(
            !f.root.join("sh/merged.parquet").exists(),
            "{parts:?} wrote output"
        );
    }
    let o = merge(&[s2, s0, s1]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(f.root.join("sh/merged.parquet")).unwrap(),
        std::fs::read(&single).unwrap(),
        "the merge of all shards is the single run's file"
    );
}

/// data-schemas/predictions.md's table lists exactly the metadata keys a
/// shard output has (the single run's keys, in its schema block, plus
/// `shard`).
#[test]
fn the_documented_metadata_keys_are_those_written() {
    let f = fixture();
    let out = f.p("doc/s.parquet");
    f.predict_ok(&["--model", &f.p("m.onnx"), "--shard", "1/2", "-o", &out]);
    let file = std::fs::File::open(&out).unwrap();
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let mut written: Vec<String> = b.schema().metadata().keys().cloned().collect();
    written.sort();
    let doc = std::fs::read_to_string(
        std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(
                || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
                std::path::PathBuf::from,
            )
            .join("../../data-schemas/predictions.md"),
    )
    .unwrap();
    let columns = ["split", "id_code", "site", "logits"];
    let mut documented: Vec<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(k, _)| k.to_string()))
        .filter(|k| !columns.contains(&k.as_str()))
        .collect();
    documented.sort();
    assert_eq!(documented, written);
}

/// A missing model or checkpoint is reported once, not once per cause.
#[test]
fn a_missing_model_is_said_once() {
    let f = fixture();
    let o = f.predict(&[
        "--engine",
        "tch",
        "--load",
        &f.p("nope/ck"),
        "-o",
        &f.p("once/p.parquet"),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    assert_eq!(err.matches("nope/ck").count(), 1, "{err}");
    let o = f.predict(&["--model", &f.p("nope.onnx"), "-o", &f.p("once/p.parquet")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(
        err.matches(&format!("{}:", f.p("nope.onnx"))).count(),
        1,
        "{err}"
    );
    assert!(!f.root.join("once").exists());
}

#[test]
fn progress_goes_to_pipes_as_plain_lines_and_q_silences_it() {
    let f = fixture();
    let exe = env!("CARGO_BIN_EXE_rcic-predict");
    let run = |quiet: bool, out: &str| {
        let mut c = std::process::Command::new(exe);
        c.args(["--data", &f.p("tiny"), "--alias", ALIAS, "--threads", "1"])
            .args(["--store", &f.p("art"), "--model", &f.p("m.onnx")])
            .args(["-o", &f.p(out)]);
        rcic_testkit::progress::stderr_of(c, quiet)
    };
    let err = run(false, "progress/p.parquet");
    let lines = rcic_testkit::progress::plain_lines(&err, "predict", "sites");
    assert!(
        lines.len() >= 2,
        "one plain line per batch expected:\n{err}"
    );
    let quiet = run(true, "progress/q.parquet");
    assert!(!quiet.contains(" predict: "), "{quiet}");
}
