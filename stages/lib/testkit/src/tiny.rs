//! The tiny synthetic dataset (the `tiny` preset's generator, seed 0) and
//! its preprocess artifact, made once per test binary with the stage
//! binaries; and one tiny model through train, export and predict.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::run_ok;

/// The tiny preset's layout alias.
pub const ALIAS: &str = "HUVEC-04=HEPG2-02:1";

/// A temporary folder holding `tiny/` (the dataset) and `art/` (the store
/// with its preprocess artifact).
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Fixture {
    /// `ROOT/rel` as a string.
    pub fn p(&self, rel: &str) -> String {
        self.root.join(rel).to_string_lossy().into_owned()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).exists()
    }
}

/// The fixture, made on first use.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let root = dir.path().to_path_buf();
        let f = Fixture { _dir: dir, root };
        generate(&f.p("tiny"));
        preprocess(&f.p("tiny"), &f.p("art"));
        f
    })
}

/// Generates the tiny dataset (seed 0) into `out`.
pub fn generate(out: &str) {
    let args = [
        "--preset",
        "tiny",
        "--out",
        out,
        "--seed",
        "0",
        "--threads",
        "1",
    ];
    run_ok("rcic-synth", &args);
}

/// Preprocesses `data` into the store `store` (one thread, quiet).
pub fn preprocess(data: &str, store: &str) {
    let args = ["--data", data, "--store", store, "-q", "--threads", "1"];
    run_ok("rcic-preprocess", &args);
}

/// The tiny model's training flags (densenet-tiny, 36 classes, embedding 32).
pub const MODEL: [&str; 6] = [
    "--backbone",
    "densenet-tiny",
    "--classes",
    "36",
    "--embedding-size",
    "32",
];

/// One tiny model through the chain: trains on `data` into `save` with
/// `train_args` added, exports it to `save.onnx` and predicts with `tta`
/// variants into `save.pred`, which it returns.
pub fn model(
    data: &str,
    store: &str,
    save: &str,
    alias: &str,
    tta: &str,
    train_args: &[&str],
) -> String {
    let mut args = vec!["--data", data, "--store", store, "--save", save];
    args.extend(MODEL);
    args.extend(["--threads", "1", "--alias", alias, "-q"]);
    args.extend_from_slice(train_args);
    run_ok("rcic-train", &args);
    let onnx = format!("{save}.onnx");
    let pred = format!("{save}.pred");
    run_ok("rcic-export", &["--load", save, "-o", &onnx]);
    let args = [
        "--model",
        &onnx,
        "--data",
        data,
        "--store",
        store,
        "--tta",
        tta,
        "--alias",
        alias,
        "-o",
        &pred,
        "-q",
        "--threads",
        "1",
    ];
    run_ok("rcic-predict", &args);
    pred
}
