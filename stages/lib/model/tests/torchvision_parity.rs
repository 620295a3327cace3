//! Parity with PyTorch: torchvision's DenseNet-161 and ResNet-50 (random
//! weights, 6-channel first conv, random batch-norm statistics) built by the
//! fixture script with the venv's torch/torchvision, saved as `.pth` (zip and
//! legacy formats) and safetensors; our network loads them through
//! `--pretrained`'s path (plus the first conv, which ImageNet loading skips)
//! and its pooled features match PyTorch's to <= 1e-4.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rcic_model::checkpoint::Checkpoint;
use rcic_model::pretrained::{first_conv_name, load_pretrained};
use rcic_model::{ConfigOverrides, ModelConfig, Network};
use tch::{Device, Tensor};

/// Runs the fixture generator once per test process.
fn fixtures() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        );
        let python = root.join("../../../.venv/bin/python");
        assert!(
            python.exists(),
            "{} missing: run `make deps`",
            python.display()
        );
        let out = std::process::Command::new(&python)
            .arg(root.join("tests/fixtures/torchvision_state_dicts.py"))
            .arg(dir.path())
            .arg("64")
            .output()
            .expect("run the fixture script");
        assert!(
            out.status.success(),
            "fixture script failed (torch and torchvision==0.26.0 in the venv?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

fn parity(config: &ModelConfig, weights: &Path, io: &Path) {
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs, config).unwrap();
    let first = first_conv_name(config);
    let before = vs.variables()[first].copy();
    let report = load_pretrained(&vs, config, weights).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.kept.contains(&first.to_string()));
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.starts_with("classifier.") || s.starts_with("fc.")),
        "{:?}",
        report.skipped
    );
    assert!(
        vs.variables()[first].equal(&before),
        "the first conv must not be loaded from ImageNet weights"
    );
    // Parity needs the fixture's 6-channel conv too.
    let file = Checkpoint::read(weights).unwrap();
    let conv = file
        .tensors
        .iter()
        .find(|(k, _)| k.ends_with("conv0.weight") || *k == "conv1.weight")
        .unwrap()
        .1;
    tch::no_grad(|| vs.variables()[first].shallow_clone().copy_(&conv.to_tch()));

    let io = Checkpoint::read(io).unwrap();
    let x = io.tensors["x"].to_tch();
    let want = io.tensors["pooled"].to_tch();
    let got = tch::no_grad(|| net.pooled_t(&x, false));
    let d = (&got - &want).abs().max().double_value(&[]);
    let scale = want.abs().max().double_value(&[]);
    eprintln!(
        "{} from {}: max abs diff {d:.3e} (max |feature| {scale:.3})",
        config.backbone,
        weights.display()
    );
    assert!(
        d <= 1e-4,
        "{}: pooled features differ from PyTorch's by {d}",
        config.backbone
    );
}

#[test]
fn densenet161_matches_pytorch_from_pth_and_safetensors() {
    let f = fixtures();
    let c = ModelConfig::from_backbone("densenet161").unwrap();
    parity(
        &c,
        &f.join("densenet161.pth"),
        &f.join("densenet161.io.safetensors"),
    );
    parity(
        &c,
        &f.join("densenet161.safetensors"),
        &f.join("densenet161.io.safetensors"),
    );
}

#[test]
fn resnet50_matches_pytorch_from_pth_and_safetensors() {
    let f = fixtures();
    let c = ModelConfig::from_backbone("resnet50").unwrap();
    parity(
        &c,
        &f.join("resnet50.pth"),
        &f.join("resnet50.io.safetensors"),
    );
    parity(
        &c,
        &f.join("resnet50.safetensors"),
        &f.join("resnet50.io.safetensors"),
    );
}

#[test]
fn legacy_pth_with_early_key_names_loads() {
    let f = fixtures();
    let c = ModelConfig::from_backbone("densenet-tiny").unwrap();
    parity(
        &c,
        &f.join("tiny_legacy.pth"),
        &f.join("tiny_legacy.io.safetensors"),
    );
}

#[test]
fn wrong_backbone_lists_the_mismatches() {
    let f = fixtures();
    let c = ModelConfig::from_backbone("densenet121").unwrap();
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let _net = Network::new(&vs, &c).unwrap();
    let e = load_pretrained(&vs, &c, &f.join("densenet161.pth"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("densenet161.pth")
            && e.contains("another shape")
            && e.contains("denselayer1.conv1.weight"),
        "{e}"
    );
    let r = ConfigOverrides {
        backbone: Some("resnet18".into()),
        ..Default::default()
    }
    .apply(None)
    .unwrap();
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let _net = Network::new(&vs, &r).unwrap();
    let e = load_pretrained(&vs, &r, &f.join("resnet50.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("layer1.0.conv3.weight") && e.contains("no backbone variable"),
        "{e}"
    );
}

#[test]
fn truncated_pth_is_a_clear_error() {
    let f = fixtures();
    let bytes = std::fs::read(f.join("tiny_legacy.pth")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p: PathBuf = dir.path().join("cut.pth");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let e = Checkpoint::read(&p).unwrap_err().to_string();
    assert!(e.contains("cut.pth") && e.contains("truncated"), "{e}");
    let bytes = std::fs::read(f.join("resnet50.pth")).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 5000]).unwrap();
    let e = Checkpoint::read(&p).unwrap_err().to_string();
    assert!(e.contains("cut.pth") && e.contains("truncated"), "{e}");
    let _ = Tensor::zeros([1], (tch::Kind::Float, Device::Cpu));
}
