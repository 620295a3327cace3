//! The training loader's batches are, sample by sample, the training
//! transform of `augment` (whose outputs `augment_golden` pins) with the
//! sample's own generator, and the evaluation loader's are the shared
//! normalisation; for several thread counts, with per-sample and per-site
//! statistics.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rcic_core::normalize::{normalize, ChannelNorm};
use rcic_core::tensors::SiteTensors;
use rcic_train::augment::{sample_rng, train_transform, AugmentOptions};
use rcic_train::loader::{load, LoaderOptions, SiteInfo};

fn tensors() -> SiteTensors {
    let f = common::fixture();
    let dir =
        rcic_core::locate::find_tensors(None, Path::new(&f.p("tiny")), Path::new(&f.p("art")))
            .expect("the fixture's preprocess artifact");
    SiteTensors::open(&dir).unwrap()
}

fn infos(t: &SiteTensors, with_stats: bool) -> HashMap<u32, SiteInfo> {
    let st = ChannelNorm {
        mean: [0.05, 0.06, 0.07, 0.08, 0.09, 0.1],
        std: [0.02, 0.03, 0.04, 0.05, 0.06, 0.07],
    };
    t.all_rows()
        .into_iter()
        .map(|r| {
            let info = SiteInfo {
                label: r as i64 % 5,
                cell_type: r as usize % 3,
                stats: (with_stats && r % 2 == 0).then_some(st),
            };
            (r, info)
        })
        .collect()
}

#[test]
fn loader_batches_are_the_transform_of_each_sample() {
    let t = tensors();
    let s = t.image_size();
    let rows: Vec<u32> = t.all_rows().into_iter().take(40).collect();
    for (with_stats, augment, threads) in [
        (false, Some(AugmentOptions::default()), 1),
        (true, Some(AugmentOptions::default()), 2),
        (
            true,
            Some(AugmentOptions {
                scale_aug: 1.0,
                pw_aug: (0.0, 0.0),
            }),
            1,
        ),
        (true, None, 2),
        (false, None, 1),
    ] {
        let info = Arc::new(infos(&t, with_stats));
        let o = LoaderOptions {
            batch_size: 6,
            shuffle: true,
            drop_last: false,
            seed: 11,
            epoch: 2,
            augment,
            threads,
            cell_types: 3,
        };
        let mut seen = 0;
        for b in load(&t, &rows, info.clone(), &o) {
            let b = b.unwrap();
            let site = 6 * s * s;
            for (k, &r) in b.rows.iter().enumerate() {
                let px = t.site(r).unwrap().pixels;
                let st = info[&r].stats;
                let want = match &augment {
                    Some(a) => {
                        let mut rng = sample_rng(11, 2, (b.index * 6 + k) as u64);
                        train_transform(&px, s, &mut rng, a, st.as_ref())
                    }
                    None => normalize(&px, s, st.as_ref()),
                };
                let got = &b.x[k * site..(k + 1) * site];
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(g, w)| g.to_bits() == w.to_bits()),
                    "row {r} (batch {}, sample {k}) differs",
                    b.index
                );
                assert_eq!(b.labels[k], r as i64 % 5);
                assert_eq!(b.cell[k * 3 + r as usize % 3], 1.0);
                seen += 1;
            }
        }
        assert_eq!(seen, rows.len());
    }
}
