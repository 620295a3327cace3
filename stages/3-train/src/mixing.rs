//! Batch-level target construction and mixing (docs/method.md section 3 step 4):
//! dense targets with label smoothing, then mixup and CutMix with a permuted
//! batch; images, cell-type vectors and targets are mixed alike. The random
//! draws come from a generator the caller seeds per batch.

use rand::Rng;
use rand_distr::{Beta, Distribution};
use tch::{Kind, Tensor};

/// Dense targets: 1 - ls on the label, ls / (classes - 1) elsewhere.
pub fn smooth_labels(labels: &Tensor, classes: i64, ls: f64) -> Tensor {
    let one_hot = labels.one_hot(classes).to_kind(Kind::Float);
    let off = ls / (classes as f64 - 1.0);
    one_hot * (1.0 - ls - off) + off
}

/// A random permutation of 0..n from `rng` (Fisher-Yates).
pub fn permutation(n: i64, rng: &mut impl Rng) -> Vec<i64> {
    let mut p: Vec<i64> = (0..n).collect();
    for i in (1..p.len()).rev() {
        let j = rng.random_range(0..=i);
        p.swap(i, j);
    }
    p
}

/// The CutMix box for an H x W image: centre uniform in the image, sides
/// sqrt(1 - lambda) of height and width, clipped; edges rounded as Python's
/// round() (half to even). Returns (r1, r2, c1, c2), empty when r1 >= r2 or
/// c1 >= c2.
pub fn cutmix_box(h: i64, w: i64, lambda: f64, row: f64, col: f64) -> (i64, i64, i64, i64) {
    let bh = (1.0 - lambda).sqrt() * h as f64;
    let bw = (1.0 - lambda).sqrt() * w as f64;
    let r1 = (row - bh / 2.0).max(0.0).round_ties_even() as i64;
    let r2 = (row + bh / 2.0).min(h as f64).round_ties_even() as i64;
    let c1 = (col - bw / 2.0).max(0.0).round_ties_even() as i64;
    let c2 = (col + bw / 2.0).min(w as f64).round_ties_even() as i64;
    (r1, r2, c1, c2)
}

/// What mixing did to a batch (for logs and tests).
#[derive(Debug, Clone, PartialEq)]
pub struct MixInfo {
    pub cutmix_box: Option<(i64, i64, i64, i64)>,
    /// CutMix's lambda recomputed from the clipped box.
    pub cutmix_lambda: Option<f64>,
}

/// Applies mixup (alpha > 0) then CutMix (alpha > 0) in place of `x`
/// [B, C, H, W], `s` [B, cell types] and `y` [B, classes] (dense).
pub fn mix(
    x: &mut Tensor,
    s: &mut Tensor,
    y: &mut Tensor,
    mixup: f64,
    cutmix: f64,
    rng: &mut impl Rng,
) -> MixInfo {
    let mut info = MixInfo {
        cutmix_box: None,
        cutmix_lambda: None,
    };
    if mixup == 0.0 && cutmix == 0.0 {
        return info;
    }
    let b = x.size()[0];
    let perm = Tensor::from_slice(&permutation(b, rng)).to_device(x.device());
    if mixup != 0.0 {
        let beta = Beta::new(mixup, mixup).expect("mixup alpha > 0");
        let c: Vec<f32> = (0..b).map(|_| beta.sample(rng) as f32).collect();
        let c = Tensor::from_slice(&c).to_device(x.device());
        let c4 = c.view([-1, 1, 1, 1]);
        let c2 = c.view([-1, 1]);
        *x = &c4 * &*x + (1.0 - &c4) * x.index_select(0, &perm);
        *s = &c2 * &*s + (1.0 - &c2) * s.index_select(0, &perm);
        *y = &c2 * &*y + (1.0 - &c2) * y.index_select(0, &perm);
    }
    if cutmix != 0.0 {
        let size = x.size();
        let (h, w) = (size[2], size[3]);
        let lambda = Beta::new(cutmix, cutmix)
            .expect("cutmix alpha > 0")
            .sample(rng);
        let col = rng.random::<f64>() * w as f64;
        let row = rng.random::<f64>() * h as f64;
        let (r1, r2, c1, c2) = cutmix_box(h, w, lambda, row, col);
        if r1 < r2 && c1 < c2 {
            let src = x
                .index_select(0, &perm)
                .narrow(2, r1, r2 - r1)
                .narrow(3, c1, c2 - c1);
            x.narrow(2, r1, r2 - r1).narrow(3, c1, c2 - c1).copy_(&src);
            let lam = 1.0 - ((r2 - r1) * (c2 - c1)) as f64 / (h * w) as f64;
            *s = &*s * lam + s.index_select(0, &perm) * (1.0 - lam);
            *y = &*y * lam + y.index_select(0, &perm) * (1.0 - lam);
            info.cutmix_box = Some((r1, r2, c1, c2));
            info.cutmix_lambda = Some(lam);
        }
    }
    info
}
