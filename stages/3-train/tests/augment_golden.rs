//! Golden outputs of the training transform (flips, transpose, zoom, [0, 1]
//! scaling, normalisation, pixel-wise affine) and of the evaluation
//! normalisation, recorded from the step-by-step implementation before the
//! data path was fused into one pass. Any rewrite of the hot path must give
//! the same f32 bits: each case hashes the exact bits of its outputs over
//! several seeded samples (FNV-1a over the little-endian bytes).
//!
//! Set RCIC_GOLDEN_PRINT=1 to print the table instead of checking it (only
//! when the transform is meant to change, which it is not).

use rcic_core::normalize::{normalize, ChannelNorm};
use rcic_core::CHANNELS;
use rcic_train::augment::{sample_rng, train_transform, AugmentOptions};

/// Sizes: tiny, odd, even, a prime above a power of two.
const SIZES: [usize; 6] = [1, 2, 3, 8, 17, 32];
/// Samples per case (enough to meet every flip/transpose combination).
const SAMPLES: u64 = 12;

fn fnv(h: &mut u64, xs: &[f32]) {
    for x in xs {
        for b in x.to_bits().to_le_bytes() {
            *h ^= b as u64;
            *h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Deterministic site pixels: kind 0 pseudo-random bytes, 1 a narrow range
/// (dark, like microscopy), 2 with one constant channel (std 0).
fn pixels(s: usize, kind: u32) -> Vec<u8> {
    let mut z: u64 = 0x2545_f491_4f6c_dd1d ^ (s as u64) << 8 ^ kind as u64;
    (0..CHANNELS * s * s)
        .map(|i| {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            match kind {
                0 => (z >> 24) as u8,
                1 => 3 + (z >> 40) as u8 % 29,
                _ if i < s * s => 77,
                _ => (z >> 16) as u8,
            }
        })
        .collect()
}

fn stats() -> ChannelNorm {
    ChannelNorm {
        mean: [0.0314, 0.0712, 0.0199, 0.0833, 0.0477, 0.0123],
        std: [0.0207, 0.0331, 0.0112, 0.0519, 0.0246, 0.0088],
    }
}

const OPTIONS: [(f64, (f64, f64)); 5] = [
    (0.5, (0.1, 0.1)),
    (1.0, (0.0, 0.0)),
    (0.5, (0.0, 0.0)),
    (1.0, (0.1, 0.1)),
    (0.8, (0.2, 0.05)),
];

/// One line per (size, pixels, options, normalisation): the hash of
/// SAMPLES training transforms (seed 7, epoch 3, sample k).
fn training_table() -> Vec<String> {
    let st = stats();
    let mut out = Vec::new();
    for s in SIZES {
        for kind in 0..3 {
            let p = pixels(s, kind);
            for (oi, &(scale_aug, pw_aug)) in OPTIONS.iter().enumerate() {
                let o = AugmentOptions { scale_aug, pw_aug };
                for (ni, norm) in [None, Some(&st)].into_iter().enumerate() {
                    let mut h = 0xcbf2_9ce4_8422_2325u64;
                    for k in 0..SAMPLES {
                        let mut rng = sample_rng(7, 3, k);
                        fnv(&mut h, &train_transform(&p, s, &mut rng, &o, norm));
                    }
                    out.push(format!("s{s} p{kind} o{oi} n{ni} {h:016x}"));
                }
            }
        }
    }
    out
}

fn evaluation_table() -> Vec<String> {
    let st = stats();
    let mut out = Vec::new();
    for s in SIZES {
        for kind in 0..3 {
            let p = pixels(s, kind);
            for (ni, norm) in [None, Some(&st)].into_iter().enumerate() {
                let mut h = 0xcbf2_9ce4_8422_2325u64;
                fnv(&mut h, &normalize(&p, s, norm));
                out.push(format!("s{s} p{kind} n{ni} {h:016x}"));
            }
        }
    }
    out
}

fn check(name: &str, got: Vec<String>, golden: &str) {
    if std::env::var_os("RCIC_GOLDEN_PRINT").is_some() {
        println!("{name}:\n{}", got.join("\n"));
        return;
    }
    let want: Vec<&str> = golden
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(got.len(), want.len(), "{name}: number of cases");
    let diff: Vec<String> = got
        .iter()
        .zip(&want)
        .filter(|(g, w)| g != w)
        .map(|(g, w)| format!("got {g}, recorded {w}"))
        .collect();
    assert!(
        diff.is_empty(),
        "{name}: {} cases differ:\n{}",
        diff.len(),
        diff.join("\n")
    );
}

#[test]
fn training_transform_matches_the_recorded_outputs() {
    check("training", training_table(), TRAINING);
}

#[test]
fn evaluation_normalisation_matches_the_recorded_outputs() {
    check("evaluation", evaluation_table(), EVALUATION);
}

const TRAINING: &str = "
s1 p0 o0 n0 e75d430a65e8987a
s1 p0 o0 n1 3feba08446ba3dda
s1 p0 o1 n0 66e368127e9e89a5
s1 p0 o1 n1 4529523ea4e01e3d
s1 p0 o2 n0 66e368127e9e89a5
s1 p0 o2 n1 4529523ea4e01e3d
s1 p0 o3 n0 4c4219c0726ea518
s1 p0 o3 n1 d17a3d79c9b0df11
s1 p0 o4 n0 7340e64b366f37e3
s1 p0 o4 n1 ebb32ecf52b14d4c
s1 p1 o0 n0 e75d430a65e8987a
s1 p1 o0 n1 c7dd2540c2ddb3f3
s1 p1 o1 n0 66e368127e9e89a5
s1 p1 o1 n1 2a3c31645690ba55
s1 p1 o2 n0 66e368127e9e89a5
s1 p1 o2 n1 2a3c31645690ba55
s1 p1 o3 n0 4c4219c0726ea518
s1 p1 o3 n1 6c2e6ae4b4dabd90
s1 p1 o4 n0 7340e64b366f37e3
s1 p1 o4 n1 0a4de87ae6ed87d3
s1 p2 o0 n0 e75d430a65e8987a
s1 p2 o0 n1 1ac5b1fba406c83a
s1 p2 o1 n0 66e368127e9e89a5
s1 p2 o1 n1 cab38489ee9c2b75
s1 p2 o2 n0 66e368127e9e89a5
s1 p2 o2 n1 cab38489ee9c2b75
s1 p2 o3 n0 4c4219c0726ea518
s1 p2 o3 n1 382ddd361ca10560
s1 p2 o4 n0 7340e64b366f37e3
s1 p2 o4 n1 adad54219270fe63
s2 p0 o0 n0 cf23a3f2fab7ed06
s2 p0 o0 n1 7b777e85dc7bcd3e
s2 p0 o1 n0 092c6af57f9675f9
s2 p0 o1 n1 236b395b6cedffcd
s2 p0 o2 n0 c66a3e5c91e5f545
s2 p0 o2 n1 57cbf831fbed6d31
s2 p0 o3 n0 8468f3c9dad6df5d
s2 p0 o3 n1 b2193363ad2d4833
s2 p0 o4 n0 2ed5d2e973c8a745
s2 p0 o4 n1 e54b1ffda08611dc
s2 p1 o0 n0 50886334d61d5c00
s2 p1 o0 n1 244507b2af91a50d
s2 p1 o1 n0 6047c1e9c00d0fcd
s2 p1 o1 n1 76e35ed39c9fb331
s2 p1 o2 n0 d6f9bfdd9a36c0a9
s2 p1 o2 n1 d931bc79b79f6f59
s2 p1 o3 n0 d706077aa03c64f8
s2 p1 o3 n1 9ec455861748006d
s2 p1 o4 n0 c68da81c4795a619
s2 p1 o4 n1 ffb98fe09caba516
s2 p2 o0 n0 153f0311f1d85780
s2 p2 o0 n1 fcbcddbc38a21d78
s2 p2 o1 n0 2f6f30907ab3d051
s2 p2 o1 n1 fe4968bc95dfcab9
s2 p2 o2 n0 f1c14575333ce409
s2 p2 o2 n1 7b1ff1f321eaf281
s2 p2 o3 n0 7d20a1cfda42d148
s2 p2 o3 n1 14e2a857a926a13e
s2 p2 o4 n0 c5158c7ad6ed087a
s2 p2 o4 n1 7f04a72dba3cdbd7
s3 p0 o0 n0 7f15d4af34d1117b
s3 p0 o0 n1 4bd660858f8a47dd
s3 p0 o1 n0 5734225bece9fd0d
s3 p0 o1 n1 171bb9d0ba37b451
s3 p0 o2 n0 766e58aac81146c4
s3 p0 o2 n1 30c35a72b6619895
s3 p0 o3 n0 31350d5aab2bce9c
s3 p0 o3 n1 b1fab5182710c3a4
s3 p0 o4 n0 5327e5f73c2c2d05
s3 p0 o4 n1 fb566f2424cfa104
s3 p1 o0 n0 5bda173c6231ade2
s3 p1 o0 n1 64c954359bf6dbb4
s3 p1 o1 n0 bee3d2759955f6ed
s3 p1 o1 n1 0e825d6c99413d65
s3 p1 o2 n0 7644e336f1d2cb60
s3 p1 o2 n1 3d4feeace3f6b87d
s3 p1 o3 n0 60b7c99133802bb2
s3 p1 o3 n1 b4db1d59a4dc3881
s3 p1 o4 n0 481dad9b824cde1c
s3 p1 o4 n1 6b184998ce877519
s3 p2 o0 n0 19057e45334a6d59
s3 p2 o0 n1 82c985d9da69318d
s3 p2 o1 n0 bde45c9e5c43b321
s3 p2 o1 n1 b89dc70f8ee26f0d
s3 p2 o2 n0 49da478e7e52d577
s3 p2 o2 n1 c74612e10ba4e1a1
s3 p2 o3 n0 0ccbd609ffb2bfa3
s3 p2 o3 n1 28f294b5715a6ae7
s3 p2 o4 n0 926788b46ab67935
s3 p2 o4 n1 df50e61a248fd55e
s8 p0 o0 n0 2109cd594b84dec6
s8 p0 o0 n1 a1812929fbd6651b
s8 p0 o1 n0 a67267290638e791
s8 p0 o1 n1 8866ab5597069e79
s8 p0 o2 n0 cc8f24bbb03b81e9
s8 p0 o2 n1 4069e5827eff49c9
s8 p0 o3 n0 eb4e97ee39bca431
s8 p0 o3 n1 2e8ee94f7f37a1c1
s8 p0 o4 n0 d4b2cd5269c73737
s8 p0 o4 n1 d08599b60efb48a1
s8 p1 o0 n0 7f8e28c4e8e3387e
s8 p1 o0 n1 1d30fade5a2dd46b
s8 p1 o1 n0 e4236818d8f28651
s8 p1 o1 n1 f3a32ba35c01a4cd
s8 p1 o2 n0 6e160117a8be1395
s8 p1 o2 n1 f2383d3f5901fc12
s8 p1 o3 n0 e9d2ae7e1df3f006
s8 p1 o3 n1 d85f114998fdf97e
s8 p1 o4 n0 35f120e0bad9e1dc
s8 p1 o4 n1 731ca098ed17e834
s8 p2 o0 n0 dfe4573fbf9724c9
s8 p2 o0 n1 20216de15bbaff61
s8 p2 o1 n0 aed68329558f3611
s8 p2 o1 n1 4a427cfee2a0f4ed
s8 p2 o2 n0 9372fcf80d4a4b5d
s8 p2 o2 n1 5c3405c35ca6a415
s8 p2 o3 n0 f7e8f26615ffc72a
s8 p2 o3 n1 c777ffd7f657deed
s8 p2 o4 n0 ddfae09cffb9c008
s8 p2 o4 n1 46a4891d691e40ee
s17 p0 o0 n0 08609799c08f1900
s17 p0 o0 n1 1ddf874da836cf81
s17 p0 o1 n0 d33bc9afa6065165
s17 p0 o1 n1 0b2af9c5e614e7cd
s17 p0 o2 n0 a9b56b467a38688c
s17 p0 o2 n1 0cd1aea3a03ebe67
s17 p0 o3 n0 bdd74f0e4778f5d8
s17 p0 o3 n1 42e16943f5388c4c
s17 p0 o4 n0 e2e80fdab61698ed
s17 p0 o4 n1 dc6565586b27002f
s17 p1 o0 n0 c8ac865955338a77
s17 p1 o0 n1 2b41e3a0245db8ed
s17 p1 o1 n0 24f1c55ddd13f539
s17 p1 o1 n1 d59904fb3e347a29
s17 p1 o2 n0 eda063a630188c13
s17 p1 o2 n1 848de66ac61b188d
s17 p1 o3 n0 61179d8638b8e179
s17 p1 o3 n1 35ab987cd7ada54f
s17 p1 o4 n0 4561dde89e5550e4
s17 p1 o4 n1 8a2a694caa01cb5a
s17 p2 o0 n0 05235fcc290cec4a
s17 p2 o0 n1 844d7289e8760235
s17 p2 o1 n0 2a1001dfd2473689
s17 p2 o1 n1 f01311637098bfe1
s17 p2 o2 n0 fa1d34f19376a04d
s17 p2 o2 n1 a12a9fd2cef8ce96
s17 p2 o3 n0 5861cac46356535c
s17 p2 o3 n1 0a65787a51563b8e
s17 p2 o4 n0 d4228bad67988399
s17 p2 o4 n1 59e2f8871c7808f9
s32 p0 o0 n0 8029a3c1a483f0fa
s32 p0 o0 n1 3986caa4b8353436
s32 p0 o1 n0 d11e9f2b837f3221
s32 p0 o1 n1 dce72e40bce485dd
s32 p0 o2 n0 272cc04a840db5d8
s32 p0 o2 n1 4242c35bd27eb87b
s32 p0 o3 n0 ae6aafdbec482d2d
s32 p0 o3 n1 02bd5926cf35e8df
s32 p0 o4 n0 605fb042f10581c8
s32 p0 o4 n1 ee2f8c3bf2a1c3d3
s32 p1 o0 n0 faa38a5a31515824
s32 p1 o0 n1 4ac263dcd4b092c1
s32 p1 o1 n0 cac2a46d8e885b1d
s32 p1 o1 n1 ca389da5a40d7e65
s32 p1 o2 n0 da8bf43978ac173b
s32 p1 o2 n1 b47176554fbd6366
s32 p1 o3 n0 0ee18951c257bb73
s32 p1 o3 n1 66ff3ad5f9567be6
s32 p1 o4 n0 4c4921c980601de7
s32 p1 o4 n1 b9e819851d63cd41
s32 p2 o0 n0 31b9423526f64bb4
s32 p2 o0 n1 f3bf1c86f84a9380
s32 p2 o1 n0 f5debe1efef31785
s32 p2 o1 n1 e521f65c209ec0e9
s32 p2 o2 n0 3a5e3232b317731d
s32 p2 o2 n1 3bf680e65505d01d
s32 p2 o3 n0 08ec62a6316119e0
s32 p2 o3 n1 ff2b93f9b918f144
s32 p2 o4 n0 b86e984fecb7d1d3
s32 p2 o4 n1 3351cfdf064cb8e8
";

const EVALUATION: &str = "
s1 p0 n0 81d23fd7003c2305
s1 p0 n1 a613bb2cf874b1e8
s1 p1 n0 81d23fd7003c2305
s1 p1 n1 c69a4c7e983336c3
s1 p2 n0 81d23fd7003c2305
s1 p2 n1 0b13cd385de3b8f1
s2 p0 n0 6f408831d593b261
s2 p0 n1 caf39a61a982350b
s2 p1 n0 29d6618ccb664cf2
s2 p1 n1 75d9062133e42730
s2 p2 n0 2e15d213a5d48b5b
s2 p2 n1 97dd789669aaae5c
s3 p0 n0 fbffe72d2762bb1d
s3 p0 n1 4969f54a43ae3de1
s3 p1 n0 ac0a204d3208c9bf
s3 p1 n1 be41d5be9cdd74bc
s3 p2 n0 31d683d88ed4a230
s3 p2 n1 e63a8696062867e8
s8 p0 n0 069c2c768d809c85
s8 p0 n1 2a930e5c9888c64d
s8 p1 n0 84f73ab9673c1eae
s8 p1 n1 12f1e2a6975d3eb3
s8 p2 n0 b6a4fb09f5e96a69
s8 p2 n1 648eead17964197b
s17 p0 n0 26b7888b873ccd0f
s17 p0 n1 1342d434f7c90a06
s17 p1 n0 d9fa457da16722ed
s17 p1 n1 d5b7a183708d8b0c
s17 p2 n0 296b8585eb3b27fa
s17 p2 n1 9d918130cde2a338
s32 p0 n0 5f8c89fad8d1de67
s32 p0 n1 73ffa74d84a5200a
s32 p1 n0 4f00fa3e475d8348
s32 p1 n1 10c2d9b5a29fa645
s32 p2 n0 8a2f25704e097c4e
s32 p2 n1 90af4176a4cb58ab
";
