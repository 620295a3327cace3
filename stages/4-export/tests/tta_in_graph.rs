//! TTA inside the graph equals the average of the plain graph's logits over
//! the explicitly transformed inputs (<= 1e-5), the transforms done here with
//! libtorch exactly as docs/method.md section 8 states them (slice, flip,
//! transpose, nearest interpolation back to the input size).

mod common;

use common::*;
use rcic_core::tta::py_round;
use rcic_export::{build_onnx, ExportOptions};
use rcic_model::ModelConfig;
use tch::Tensor;

/// The reference's TTA variants of a batch, written from the text.
fn explicit_variants(images: &Tensor, n: usize, r: f64) -> Vec<Tensor> {
    let (h, w) = (images.size()[2], images.size()[3]);
    let n1 = (n as f64).sqrt().ceil() as i64;
    let n2 = (n as f64 / n1 as f64).ceil() as i64;
    let mut out = Vec::new();
    for i in 0..n1 {
        for j in 0..n2 {
            let k = out.len();
            if k >= n {
                break;
            }
            let (dh, dw) = (py_round(r * h as f64), py_round(r * w as f64));
            let oh = i * (h - dh) / (n1 - 1).max(1);
            let ow = j * (w - dw) / (n2 - 1).max(1);
            let mut x = images.narrow(2, oh, dh).narrow(3, ow, dw);
            if k & 1 != 0 {
                x = x.flip([3]);
            }
            if k & 2 != 0 {
                x = x.flip([2]);
            }
            if k & 4 != 0 {
                x = x.transpose(2, 3);
            }
            out.push(x.contiguous().upsample_nearest2d([h, w], None, None));
        }
    }
    out
}

fn check(n: usize, r: f64, size: i64, fp16: bool) {
    let env = ort_env();
    let config = ModelConfig::from_backbone("densenet-tiny").unwrap();
    let (vs, _net) = random_network(&config, 3);
    let t = tensors(&vs);
    let plain = build_onnx(
        &config,
        &t,
        &ExportOptions {
            fp16,
            image_size: Some(size),
            ..Default::default()
        },
    )
    .unwrap();
    let tta = build_onnx(
        &config,
        &t,
        &ExportOptions {
            fp16,
            tta: n,
            tta_size: r,
            image_size: Some(size),
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tta.onnx");
    std::fs::write(&path, tta.to_bytes()).unwrap();
    onnx_check(&path);
    let (x, s) = inputs(3, size, config.cell_types, 5);
    let mut plain_sess = session(env, &plain.to_bytes());
    let variants = explicit_variants(&x, n, r);
    assert_eq!(variants.len(), n);
    let mut avg = vec![0f32; (3 * config.classes) as usize];
    for v in &variants {
        for (a, y) in avg.iter_mut().zip(run(&mut plain_sess, v, &s)) {
            *a += y / n as f32;
        }
    }
    let mut tta_sess = session(env, &tta.to_bytes());
    let got = run(&mut tta_sess, &x, &s);
    let d = max_abs_diff(&got, &avg);
    eprintln!("tta {n} size {r} at {size}px fp16={fp16}: max abs diff {d:.3e}");
    assert!(d <= if fp16 { 1e-3 } else { 1e-5 }, "TTA {n}/{r}: {d}");
    let meta = tta_sess.metadata().unwrap();
    assert_eq!(
        meta.custom("rcic.tta").as_deref(),
        Some(n.to_string().as_str())
    );
}

#[test]
fn eight_symmetries_at_full_size() {
    check(8, 1.0, 32, false);
}

#[test]
fn crops_with_nearest_resize_back() {
    check(5, 0.75, 40, false);
    check(3, 0.6, 32, false);
    check(8, 0.5, 36, false);
}

#[test]
fn fp16_tta() {
    check(8, 1.0, 32, true);
}

#[test]
fn tta_needs_a_fixed_size() {
    let config = ModelConfig::from_backbone("densenet-tiny").unwrap();
    let (vs, _) = random_network(&config, 1);
    let e = build_onnx(
        &config,
        &tensors(&vs),
        &ExportOptions {
            tta: 8,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("--image-size"), "{e}");
}
