//! The training and evaluation data path: site pixels from the preprocess
//! artifact through the core reader (background threads, read-ahead), then
//! augmentation and normalisation of each batch in parallel (rayon) on a
//! pipeline thread, so the next batch is ready while the model steps.

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use rayon::prelude::*;
use rcic_core::tensors::{BatchOptions, SiteTensors};
use rcic_core::CHANNELS;

use rcic_core::normalize::{normalize, ChannelNorm};

use crate::augment::{pixelwise, sample_rng, AugmentOptions};
use crate::error::TrainError;

/// What the loader needs to know of a site (by its row).
#[derive(Debug, Clone, Copy)]
pub struct SiteInfo {
    /// Label, or -1 when unknown.
    pub label: i64,
    pub cell_type: usize,
    /// Normalisation statistics on the [0, 1] scale; None = per sample.
    pub stats: Option<ChannelNorm>,
}

/// A batch ready for the model, as flat host buffers.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub index: usize,
    pub rows: Vec<u32>,
    /// [n, 6, S, S]
    pub x: Vec<f32>,
    /// [n, cell types] one-hot
    pub cell: Vec<f32>,
    pub labels: Vec<i64>,
    pub size: usize,
}

#[derive(Debug, Clone)]
pub struct LoaderOptions {
    pub batch_size: usize,
    pub shuffle: bool,
    pub drop_last: bool,
    /// Seeds the order (with the epoch) and each sample's augmentation.
    pub seed: u64,
    pub epoch: u32,
    /// None: evaluation (normalisation only).
    pub augment: Option<AugmentOptions>,
    pub threads: usize,
    pub cell_types: usize,
}

/// Batches of prepared samples in a fixed order; dropping it stops the threads.
pub struct Loader {
    rx: Receiver<Result<Prepared, TrainError>>,
    handle: Option<JoinHandle<()>>,
    pub total: usize,
}

impl Iterator for Loader {
    type Item = Result<Prepared, TrainError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.rx.recv().ok()
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        // Drain so the pipeline thread sees a closed channel and ends.
        let (_tx, rx) = sync_channel(0);
        drop(std::mem::replace(&mut self.rx, rx));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Starts the pipeline over `rows`.
pub fn load(
    tensors: &SiteTensors,
    rows: &[u32],
    info: Arc<HashMap<u32, SiteInfo>>,
    o: &LoaderOptions,
) -> Loader {
    let bopts = BatchOptions {
        batch_size: o.batch_size,
        shuffle: o.shuffle,
        seed: o.seed.wrapping_mul(1_000_003).wrapping_add(o.epoch as u64),
        drop_last: o.drop_last,
        threads: o.threads.clamp(1, 4),
        prefetch: 2,
    };
    let batches = tensors.batches(rows, &bopts);
    let total = batches.total();
    let (tx, rx) = sync_channel(2);
    let o = o.clone();
    let handle = std::thread::spawn(move || {
        for b in batches {
            let item = b
                .map_err(TrainError::from)
                .and_then(|b| prepare(b.index, b.rows, &b.pixels, b.image_size, &info, &o));
            let failed = item.is_err();
            if tx.send(item).is_err() || failed {
                return;
            }
        }
    });
    Loader {
        rx,
        handle: Some(handle),
        total,
    }
}

fn prepare(
    index: usize,
    rows: Vec<u32>,
    pixels: &[u8],
    s: usize,
    info: &HashMap<u32, SiteInfo>,
    o: &LoaderOptions,
) -> Result<Prepared, TrainError> {
    let site = CHANNELS * s * s;
    let n = rows.len();
    let infos: Vec<SiteInfo> = rows
        .iter()
        .map(|r| {
            info.get(r)
                .copied()
                .ok_or_else(|| TrainError::Data(format!("site row {r} has no sample information")))
        })
        .collect::<Result<_, _>>()?;
    let mut x = vec![0f32; n * site];
    x.par_chunks_mut(site)
        .zip(pixels.par_chunks(site))
        .enumerate()
        .for_each(|(k, (dst, src))| {
            let out = match &o.augment {
                Some(a) => {
                    let mut rng = sample_rng(o.seed, o.epoch, (index * o.batch_size + k) as u64);
                    let mut p = src.to_vec();
                    crate::augment::geometric(&mut p, s, &mut rng, a.scale_aug);
                    let mut v = normalize(&p, s, infos[k].stats.as_ref());
                    pixelwise(&mut v, s, &mut rng, a.pw_aug);
                    v
                }
                None => normalize(src, s, infos[k].stats.as_ref()),
            };
            dst.copy_from_slice(&out);
        });
    let mut cell = vec![0f32; n * o.cell_types];
    for (k, i) in infos.iter().enumerate() {
        cell[k * o.cell_types + i.cell_type] = 1.0;
    }
    Ok(Prepared {
        index,
        rows,
        x,
        cell,
        labels: infos.iter().map(|i| i.label).collect(),
        size: s,
    })
}
