//! The `rcic-export` binary: writes a checked ONNX file from our checkpoint
//! (architecture from its metadata), publishes and reuses a store artifact,
//! and refuses another architecture, a wrong --classes or a truncated file
//! with a message naming the file and the problem.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use common::*;
use rcic_model::checkpoint::save;
use rcic_model::ModelConfig;

fn export(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rcic-export"))
        .args(args)
        .output()
        .expect("run rcic-export")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn checkpoint(dir: &Path) -> std::path::PathBuf {
    let config = ModelConfig::from_backbone("densenet-tiny").unwrap();
    let (vs, _) = random_network(&config, 2);
    let p = dir.join("tiny.safetensors");
    save(&p, &vs, &config, &BTreeMap::new()).unwrap();
    p
}

#[test]
fn exports_checks_and_reuses_store_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let ck = checkpoint(dir.path());
    let ck = ck.to_str().unwrap();
    let out = dir.path().join("m.onnx");
    let o = export(&["--load", ck, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    onnx_check(&out);
    let sess = session(ort_env(), &std::fs::read(&out).unwrap());
    let meta = sess.metadata().unwrap();
    assert_eq!(meta.custom("rcic.classes").as_deref(), Some("1139"));
    assert_eq!(
        meta.custom("rcic.backbone").as_deref(),
        Some("densenet-tiny")
    );
    assert_eq!(
        meta.custom("rcic.checkpoint_key").map(|k| k.len()),
        Some(32)
    );

    let store = dir.path().join("artifacts");
    let args = [
        "--load",
        ck,
        "--store",
        store.to_str().unwrap(),
        "--fp16",
        "--tta",
        "8",
        "--image-size",
        "32",
    ];
    let first = export(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    let art = String::from_utf8_lossy(&first.stdout).trim().to_string();
    assert!(
        Path::new(&art).join("model.onnx").is_file()
            && Path::new(&art).join("manifest.json").is_file()
    );
    onnx_check(&Path::new(&art).join("model.onnx"));
    let second = export(&args);
    assert!(
        second.status.success() && stderr(&second).contains("reusing"),
        "{}",
        stderr(&second)
    );
    assert_eq!(String::from_utf8_lossy(&second.stdout).trim(), art);
}

#[test]
fn the_store_key_follows_the_checkpoints_content_not_a_manifest_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let ck = checkpoint(dir.path());
    // Another checkpoint (other weights) in the same folder, and a valid
    // manifest of some artifact beside both.
    let config = ModelConfig::from_backbone("densenet-tiny").unwrap();
    let (vs, _) = random_network(&config, 3);
    let other = dir.path().join("other.safetensors");
    save(&other, &vs, &config, &BTreeMap::new()).unwrap();
    let store = dir.path().join("artifacts");
    let first = export(&[
        "--load",
        ck.to_str().unwrap(),
        "-o",
        dir.path().join("m.onnx").to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let art = String::from_utf8_lossy(&first.stdout).trim().to_string();
    std::fs::copy(
        Path::new(&art).join("manifest.json"),
        dir.path().join("manifest.json"),
    )
    .unwrap();
    let run = |p: &Path| {
        let o = export(&[
            "--load",
            p.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        (
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
            stderr(&o),
        )
    };
    let (a, _) = run(&ck);
    let (b, log) = run(&other);
    assert_ne!(a, b, "another checkpoint must not reuse this one's model");
    assert!(!log.contains("reusing"), "{log}");
    let (a2, log) = run(&ck);
    assert_eq!(a2, a);
    assert!(log.contains("reusing"), "{log}");
}

#[test]
fn clear_errors_for_wrong_classes_architecture_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let ckp = checkpoint(dir.path());
    let ck = ckp.to_str().unwrap();
    let out = dir.path().join("m.onnx");
    let out = out.to_str().unwrap();

    let o = export(&["--load", ck, "-o", out, "--classes", "10"]);
    let e = stderr(&o);
    assert!(
        !o.status.success()
            && e.contains("tiny.safetensors")
            && e.contains(
                "model.head.weight: file has shape [1139, 1024], model expects [10, 1024]"
            ),
        "{e}"
    );

    let o = export(&["--load", ck, "-o", out, "--backbone", "resnet18"]);
    let e = stderr(&o);
    assert!(
        !o.status.success() && e.contains("missing") && e.contains("model.features.0.weight"),
        "{e}"
    );

    let bytes = std::fs::read(&ckp).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = export(&["--load", cut.to_str().unwrap(), "-o", out]);
    let e = stderr(&o);
    assert!(
        !o.status.success() && e.contains("cut.safetensors") && e.contains("truncated"),
        "{e}"
    );

    let o = export(&["--load", ck]);
    assert!(
        !o.status.success() && stderr(&o).contains("-o FILE"),
        "{}",
        stderr(&o)
    );
    assert!(!Path::new(out).exists(), "no output on failure");
}

#[test]
fn an_output_that_is_the_input_a_folder_or_below_a_file_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let ckp = checkpoint(dir.path());
    let ck = ckp.to_str().unwrap();
    let before = std::fs::read(&ckp).unwrap();
    std::fs::create_dir(dir.path().join("dir")).unwrap();
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let store = dir.path().join("artifacts");
    let same = dir.path().join("dir/../tiny.safetensors");
    let cases: Vec<(std::path::PathBuf, String)> = vec![
        (
            same.clone(),
            format!("-o {} is the input --load {ck}", same.display()),
        ),
        (dir.path().join("dir"), "is a folder".into()),
        (
            dir.path().join("file/m.onnx"),
            format!("{} is not a directory", dir.path().join("file").display()),
        ),
        (dir.path().join("none/m.onnx"), "does not exist".into()),
    ];
    for (out, want) in cases {
        let o = export(&[
            "--load",
            ck,
            "-o",
            out.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ]);
        let e = stderr(&o);
        assert!(!o.status.success() && e.contains(&want), "-o {out:?}: {e}");
    }
    assert_eq!(
        std::fs::read(&ckp).unwrap(),
        before,
        "the input is untouched"
    );
    assert!(!store.exists(), "nothing published before the checks");
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["dir", "file", "tiny.safetensors"],
        "no temporary left"
    );
}

#[test]
fn tta_counts_are_those_the_predict_stage_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let ck = checkpoint(dir.path());
    let out = dir.path().join("m.onnx");
    for n in ["100000", "65"] {
        let o = export(&[
            "--load",
            ck.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--tta",
            n,
            "--image-size",
            "32",
        ]);
        let e = stderr(&o);
        assert!(
            !o.status.success()
                && e.contains(&format!(
                    "--tta {n}: expected 0 (no TTA in the graph) or 1 to 64 variants"
                )),
            "{e}"
        );
        assert!(!out.exists());
    }
    assert_eq!(rcic_core::tta::MAX_VARIANTS, 64);
}

#[test]
fn a_missing_checkpoint_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let o = export(&[
        "--load",
        missing.to_str().unwrap(),
        "-o",
        dir.path().join("m.onnx").to_str().unwrap(),
    ]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.starts_with("error: "), "{e}");
    assert_eq!(e.matches("(os error 2)").count(), 1, "{e}");
    assert_eq!(e.matches(missing.to_str().unwrap()).count(), 1, "{e}");
}
