//! Label smoothing, CutMix and mixup on hand-made tensors, and the loss
//! against values computed by hand.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rcic_train::loss::{arcface, dense_cross_entropy, total_loss};
use rcic_train::mixing::{cutmix_box, mix, smooth_labels};
use tch::{Kind, Tensor};

fn vec2(t: &Tensor) -> Vec<Vec<f64>> {
    let t = t.to_kind(Kind::Double);
    (0..t.size()[0])
        .map(|i| Vec::<f64>::try_from(t.get(i)).unwrap())
        .collect()
}

#[test]
fn label_smoothing_rows_sum_to_one() {
    let y = smooth_labels(&Tensor::from_slice(&[2i64, 0]), 5, 0.1);
    for (r, label) in vec2(&y).iter().zip([2, 0]) {
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        assert!((r[label] - 0.9).abs() < 1e-6);
        assert!(r
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != label)
            .all(|(_, v)| (v - 0.025).abs() < 1e-6));
    }
    let hard = smooth_labels(&Tensor::from_slice(&[1i64]), 3, 0.0);
    assert_eq!(vec2(&hard), vec![vec![0.0, 1.0, 0.0]]);
}

#[test]
fn cutmix_box_is_clipped_and_rounded_like_python() {
    // lambda 0.75 on 8x8: sides 4, centre (1, 6): rows [-1, 3] -> [0, 3], cols [4, 8].
    assert_eq!(cutmix_box(8, 8, 0.75, 1.0, 6.0), (0, 3, 4, 8));
    // Half-way edges round half to even, as Python 3.
    assert_eq!(
        cutmix_box(4, 4, 0.75, 2.5, 2.5),
        (2, 4, 2, 4),
        "1.5 and 3.5 round to 2 and 4"
    );
    // Printed by the reference's formula in Python 3 (same IEEE arithmetic).
    assert_eq!(cutmix_box(10, 10, 0.96, 1.5, 5.0), (0, 3, 4, 6));
    assert_eq!(cutmix_box(512, 512, 0.3, 100.25, 400.7), (0, 314, 187, 512));
    assert_eq!(cutmix_box(64, 32, 0.5, 63.9, 0.1), (41, 64, 0, 11));
}

#[test]
fn cutmix_pastes_the_box_and_mixes_targets_by_area() {
    let b = 4;
    let mut x = Tensor::arange(b, (Kind::Float, tch::Device::Cpu))
        .view([b, 1, 1, 1])
        .repeat([1, 6, 8, 8]);
    let mut s = Tensor::eye(b, (Kind::Float, tch::Device::Cpu));
    let mut y = smooth_labels(&Tensor::arange(b, (Kind::Int64, tch::Device::Cpu)), 4, 0.0);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let info = mix(&mut x, &mut s, &mut y, 0.0, 1.0, &mut rng);
    let (r1, r2, c1, c2) = info.cutmix_box.expect("a box for this seed");
    let lam = info.cutmix_lambda.unwrap();
    assert!((lam - (1.0 - ((r2 - r1) * (c2 - c1)) as f64 / 64.0)).abs() < 1e-12);
    for i in 0..b {
        let xi = x.get(i);
        let inside = xi.get(0).get(r1).get(c1).double_value(&[]);
        let outside_pixels: Vec<f64> = (0..8)
            .flat_map(|r| (0..8).map(move |c| (r, c)))
            .filter(|&(r, c)| !(r1..r2).contains(&r) || !(c1..c2).contains(&c))
            .map(|(r, c)| xi.get(0).get(r).get(c).double_value(&[]))
            .collect();
        assert!(outside_pixels.iter().all(|&v| v == i as f64));
        // Targets: lam on itself, 1 - lam on the sample its box came from.
        let yi = &vec2(&y)[i as usize];
        let src = inside as usize;
        if src != i as usize {
            assert!(
                (yi[i as usize] - lam).abs() < 1e-6 && (yi[src] - (1.0 - lam)).abs() < 1e-6,
                "{yi:?}"
            );
        }
        assert!((yi.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        assert_eq!(vec2(&s)[i as usize], *yi, "cell-type vectors mixed alike");
    }
}

#[test]
fn mixup_is_a_convex_combination() {
    let b = 3;
    let mut x = Tensor::arange(b, (Kind::Float, tch::Device::Cpu))
        .view([b, 1, 1, 1])
        .repeat([1, 6, 2, 2]);
    let mut s = Tensor::eye(b, (Kind::Float, tch::Device::Cpu));
    let mut y = s.copy();
    mix(
        &mut x,
        &mut s,
        &mut y,
        0.4,
        0.0,
        &mut ChaCha8Rng::seed_from_u64(1),
    );
    for r in vec2(&y) {
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        assert!(r.iter().all(|&v| (-1e-6..=1.0 + 1e-6).contains(&v)));
    }
    // The image of sample i is sum_k y[i][k] * k (each image constant k).
    let ys = vec2(&y);
    for i in 0..b {
        let want: f64 = ys[i as usize]
            .iter()
            .enumerate()
            .map(|(k, v)| k as f64 * v)
            .sum();
        assert!((x.get(i).mean(Kind::Double).double_value(&[]) - want).abs() < 1e-5);
    }
}

#[test]
fn losses_match_hand_computation() {
    let logits = Tensor::from_slice(&[1.0f32, 2.0, 0.5, 0.0, -1.0, 3.0]).view([2, 3]);
    let target = Tensor::from_slice(&[0.0f32, 1.0, 0.0, 0.2, 0.3, 0.5]).view([2, 3]);
    let ce = dense_cross_entropy(&logits, &target).double_value(&[]);
    let lse = |r: [f64; 3]| r.iter().map(|v| v.exp()).sum::<f64>().ln();
    let r0 = lse([1.0, 2.0, 0.5]) - 2.0;
    let r1 = 0.2 * (lse([0.0, -1.0, 3.0]) - 0.0)
        + 0.3 * (lse([0.0, -1.0, 3.0]) + 1.0)
        + 0.5 * (lse([0.0, -1.0, 3.0]) - 3.0);
    assert!((ce - (r0 + r1) / 2.0).abs() < 1e-5, "{ce}");

    // ArcFace: for a one-hot target and cosine c on the label, the label's
    // logit is s*cos(acos(c) + m) when c > cos(pi - m).
    let cos = Tensor::from_slice(&[0.6f32, 0.1, -0.2]).view([1, 3]);
    let t = Tensor::from_slice(&[1.0f32, 0.0, 0.0]).view([1, 3]);
    let a = arcface(&cos, &t, 30.0, 0.5).double_value(&[]);
    let phi = (0.6f64.acos() + 0.5).cos();
    let z = [30.0 * phi, 3.0, -6.0];
    let want = (z.iter().map(|v| v.exp()).sum::<f64>().ln() - z[0]) / 2.0;
    assert!((a - want).abs() < 1e-4, "{a} vs {want}");
    // Below the threshold the linear fallback cos - sin(pi - m) * m applies.
    let cos = Tensor::from_slice(&[-0.95f32, 0.0]).view([1, 2]);
    let t = Tensor::from_slice(&[1.0f32, 0.0]).view([1, 2]);
    let a = arcface(&cos, &t, 30.0, 0.5).double_value(&[]);
    let l0 = 30.0 * (-0.95 - (std::f64::consts::PI - 0.5).sin() * 0.5);
    let want = ((l0.exp() + 1.0f64).ln() - l0) / 2.0;
    assert!((a - want).abs() < 1e-3, "{a} vs {want}");

    let tot = total_loss(
        &logits,
        &Tensor::zeros([2, 3], (Kind::Float, tch::Device::Cpu)),
        &target,
        0.2,
    )
    .double_value(&[]);
    let arc0 = arcface(
        &Tensor::zeros([2, 3], (Kind::Float, tch::Device::Cpu)),
        &target,
        30.0,
        0.5,
    )
    .double_value(&[]);
    assert!((tot - (0.8 * ce + 0.2 * arc0)).abs() < 1e-5);
}
