//! The host-side TTA variants equal the explicitly transformed inputs of
//! docs/method.md section 8 computed with libtorch: crop round(r*H) x round(r*W)
//! at the grid offset, flip width if k&1, height if k&2, transpose if k&4,
//! nearest resize back (PyTorch's `upsample_nearest2d`).

use rcic_core::tta::{py_round, variants};
use rcic_predict::tta::apply;
use tch::{Device, Kind, Tensor};

fn explicit(x: &Tensor, n: usize, r: f64, s: i64) -> Vec<Tensor> {
    let n1 = (n as f64).sqrt().ceil() as i64;
    let n2 = (n as f64 / n1 as f64).ceil() as i64;
    let (h, w) = (py_round(r * s as f64), py_round(r * s as f64));
    let mut out = Vec::new();
    for i in 0..n1 {
        for j in 0..n2 {
            let k = out.len();
            if k >= n {
                break;
            }
            let oh = i * (s - h) / (n1 - 1).max(1);
            let ow = j * (s - w) / (n2 - 1).max(1);
            let mut y = x.narrow(2, oh, h).narrow(3, ow, w);
            if k & 1 != 0 {
                y = y.flip([3]);
            }
            if k & 2 != 0 {
                y = y.flip([2]);
            }
            if k & 4 != 0 {
                y = y.transpose(2, 3);
            }
            out.push(y.upsample_nearest2d([s, s], None, None));
        }
    }
    out
}

#[test]
fn variants_equal_explicit_transforms() {
    for (n, r, s) in [
        (8usize, 1.0f64, 32i64),
        (8, 0.75, 45),
        (5, 0.5, 40),
        (3, 0.9, 33),
    ] {
        tch::manual_seed(n as i64);
        let x = Tensor::randn([2, 6, s, s], (Kind::Float, Device::Cpu));
        let xv = Vec::<f32>::try_from(&x.flatten(0, -1)).unwrap();
        let want = explicit(&x, n, r, s);
        let got = variants(n, r, s, s);
        assert_eq!(got.len(), n);
        for (k, (v, e)) in got.iter().zip(&want).enumerate() {
            let e = Vec::<f32>::try_from(&e.contiguous().flatten(0, -1)).unwrap();
            assert_eq!(
                apply(v, &xv, 2, 6, s as usize),
                e,
                "n {n} r {r} s {s}: variant {k}"
            );
        }
    }
}
