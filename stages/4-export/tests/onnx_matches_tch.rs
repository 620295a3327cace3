//! The exported graph computes what the tch network computes: eval-mode
//! logits from ONNX Runtime vs tch on random weights and inputs, fp32
//! (max abs diff <= 1e-4) and fp16 (relative <= 1e-2), for densenet-tiny,
//! DenseNet-161 and ResNet-50 at 64 px; every written file passes onnx's
//! checker.

mod common;

use common::*;
use rcic_export::{build_onnx, ExportOptions};
use rcic_model::{ConfigOverrides, ModelConfig};

fn check(config: &ModelConfig, size: i64, fp16: bool, dynamic: bool) {
    let env = ort_env();
    let (vs, net) = random_network(config, 7);
    let (x, s) = inputs(3, size, config.cell_types, 11);
    let want = to_vec(&tch::no_grad(|| net.forward_t(&x, &s, false).logits));
    let opts = ExportOptions {
        fp16,
        image_size: (!dynamic).then_some(size),
        ..Default::default()
    };
    let model = build_onnx(config, &tensors(&vs), &opts).unwrap();
    let bytes = model.to_bytes();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.onnx");
    std::fs::write(&path, &bytes).unwrap();
    onnx_check(&path);
    let mut sess = session(env, &bytes);
    let got = run(&mut sess, &x, &s);
    assert_eq!(got.len(), (3 * config.classes) as usize);
    let d = max_abs_diff(&got, &want);
    let scale = max_abs(&want);
    eprintln!(
        "{} {size}px fp16={fp16}: max abs diff {d:.3e}, max |logit| {scale:.3}",
        config.backbone
    );
    if fp16 {
        assert!(
            d / scale <= 1e-2,
            "{}: fp16 relative diff {}",
            config.backbone,
            d / scale
        );
    } else {
        assert!(d <= 1e-4, "{}: fp32 max abs diff {d}", config.backbone);
    }
}

#[test]
fn densenet_tiny_fp32_fp16_dynamic_and_head_hidden() {
    let tiny = ModelConfig::from_backbone("densenet-tiny").unwrap();
    check(&tiny, 64, false, true);
    check(&tiny, 64, true, false);
    let hidden = ConfigOverrides {
        classes: Some(50),
        head_hidden: Some(vec![64, 32]),
        embedding_size: Some(128),
        ..Default::default()
    }
    .apply(Some(&tiny))
    .unwrap();
    check(&hidden, 48, false, false);
    let no_cell = ConfigOverrides {
        concat_cell_type: Some(false),
        ..Default::default()
    }
    .apply(Some(&tiny))
    .unwrap();
    check(&no_cell, 32, false, true);
}

#[test]
fn densenet161_64px() {
    let c = ModelConfig::from_backbone("densenet161").unwrap();
    check(&c, 64, false, false);
    check(&c, 64, true, false);
}

#[test]
fn resnet50_64px() {
    let c = ModelConfig::from_backbone("resnet50").unwrap();
    check(&c, 64, false, false);
    check(&c, 64, true, false);
}

#[test]
fn resnet18_and_resnext_fp32() {
    for name in ["resnet18", "resnext50_32x4d"] {
        let c = ConfigOverrides {
            classes: Some(20),
            embedding_size: Some(64),
            ..Default::default()
        }
        .apply(Some(&ModelConfig::from_backbone(name).unwrap()))
        .unwrap();
        check(&c, 32, false, true);
    }
}
