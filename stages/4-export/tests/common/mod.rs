//! Shared by the export tests: ONNX Runtime from the venv, the venv's
//! Python (for onnx's checker), random networks with non-trivial batch-norm
//! statistics, and tensor conversions.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use ort::session::Session;
use ort::value::TensorRef;
use rcic_model::{ModelConfig, Network, RawTensor};
use tch::{Device, Kind, Tensor};

pub fn repo() -> PathBuf {
    rcic_testkit::repo()
}

/// The process's one ORT environment (ORT allows one per process).
pub fn ort_env() -> &'static ort::environment::Environment {
    static ENV: std::sync::OnceLock<ort::environment::Environment> = std::sync::OnceLock::new();
    ENV.get_or_init(make_env)
}

/// ORT_DYLIB_PATH, else the project venv's library.
fn make_env() -> ort::environment::Environment {
    let path = rcic_testkit::onnxruntime_library();
    ort::init_from(&path)
        .expect("load libonnxruntime")
        .build()
        .expect("ORT environment")
}

pub fn python() -> PathBuf {
    let p = repo().join(".venv/bin/python");
    assert!(p.exists(), "{} missing: run `make deps`", p.display());
    p
}

/// Runs onnx.checker (full check) on a file; panics with its message otherwise.
pub fn onnx_check(path: &Path) {
    let out = std::process::Command::new(python())
        .args([
            "-c",
            "import sys, onnx; onnx.checker.check_model(sys.argv[1], full_check=True); print('ok')",
        ])
        .arg(path)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "onnx checker rejects {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network with random weights and random batch-norm parameters and
/// statistics (fresh batch norms are the identity in eval mode, which would
/// hide mistakes). As in trained ResNets, the last batch norm of each
/// residual branch gets a small scale, so activations do not grow block
/// after block into a range no trained network has.
pub fn random_network(config: &ModelConfig, seed: i64) -> (tch::nn::VarStore, Network) {
    tch::manual_seed(seed);
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs, config).unwrap();
    let vars = vs.variables();
    let u =
        |n: &[i64], lo: f64, hi: f64| Tensor::rand(n, (Kind::Float, Device::Cpu)) * (hi - lo) + lo;
    tch::no_grad(|| {
        for (name, v) in &vars {
            let mut v = v.shallow_clone();
            let n = v.size();
            if name.ends_with("running_var") {
                v.copy_(&u(&n, 0.5, 1.5));
            } else if name.ends_with("running_mean") {
                v.copy_(&(Tensor::randn(&n, (Kind::Float, Device::Cpu)) * 0.1));
            } else if is_bn(&vs, name) && name.ends_with(".bias") {
                v.copy_(&(Tensor::randn(&n, (Kind::Float, Device::Cpu)) * 0.1));
            } else if is_bn(&vs, name) && name.ends_with(".weight") {
                let prefix = name.rsplit_once(".bn").map(|(p, _)| p);
                let last = prefix.is_some_and(|p| {
                    let last = if vars.contains_key(&format!("{p}.bn3.weight")) {
                        3
                    } else {
                        2
                    };
                    name.ends_with(&format!(".bn{last}.weight"))
                });
                v.copy_(&if last {
                    u(&n, 0.0, 0.25)
                } else {
                    u(&n, 0.5, 1.5)
                });
            }
        }
    });
    (vs, net)
}

fn is_bn(vs: &tch::nn::VarStore, name: &str) -> bool {
    let base = name.trim_end_matches(".weight").trim_end_matches(".bias");
    vs.variables().contains_key(&format!("{base}.running_mean"))
}

pub fn tensors(vs: &tch::nn::VarStore) -> BTreeMap<String, RawTensor> {
    rcic_export::tensors_of(vs)
}

pub fn to_array(t: &Tensor) -> ArrayD<f32> {
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let v = Vec::<f32>::try_from(&t.to_kind(Kind::Float).contiguous().flatten(0, -1)).unwrap();
    ArrayD::from_shape_vec(shape, v).unwrap()
}

pub fn to_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.to_kind(Kind::Float).contiguous().flatten(0, -1)).unwrap()
}

/// One ORT run: logits for (image, cell_type).
pub fn run(session: &mut Session, image: &Tensor, cell: &Tensor) -> Vec<f32> {
    let (x, s) = (to_array(image), to_array(cell));
    let out = session
        .run(ort::inputs!["image" => TensorRef::from_array_view(&x).unwrap(), "cell_type" => TensorRef::from_array_view(&s).unwrap()])
        .unwrap();
    let (_, y) = out["logits"].try_extract_tensor::<f32>().unwrap();
    y.to_vec()
}

pub fn session(env: &ort::environment::Environment, bytes: &[u8]) -> Session {
    Session::builder(env)
        .unwrap()
        .commit_from_memory(bytes)
        .expect("ORT accepts the model")
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

pub fn max_abs(a: &[f32]) -> f32 {
    a.iter().map(|x| x.abs()).fold(0.0, f32::max)
}

/// Random images and one-hot cell types.
pub fn inputs(batch: i64, size: i64, cell_types: i64, seed: i64) -> (Tensor, Tensor) {
    tch::manual_seed(seed);
    let x = Tensor::randn([batch, 6, size, size], (Kind::Float, Device::Cpu));
    let idx = Tensor::randint(cell_types, [batch], (Kind::Int64, Device::Cpu));
    (x, idx.one_hot(cell_types).to_kind(Kind::Float))
}
