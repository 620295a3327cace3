//! The training and evaluation data path: site pixels from the preprocess
//! artifact through the core reader (background threads, read-ahead), then
//! augmentation and normalisation of each batch in parallel (rayon) on a
//! pipeline thread, so the next batch is ready while the model steps. Each
//! sample goes from its 8-bit pixels to its floats in the batch buffer in
//! one pass ([`crate::augment::transform_into`]), into a batch buffer that
//! dropped batches hand back for reuse.
//!
//! Memory bound: with r = min(threads, 4) reader threads, each holds at most
//! 3 batches of 8-bit pixels (2 read ahead, 1 being read) and the pipeline
//! thread one more; at most 4 batches of floats exist (2 queued, 1 being
//! made, 1 with the trainer). With B samples of 6 x S x S per batch that is
//! (3r + 1) * B * 6 * S^2 + 4 * 4 * B * 6 * S^2 = (3r + 17) * B * 6 * S^2
//! bytes (plus one site per reader thread while it decodes): at 512 px and
//! B = 24 (36 MiB of pixels a batch), 720 MiB with one thread, 828 MiB with
//! two, 1044 MiB at most.

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rayon::prelude::*;
use rcic_core::tensors::{BatchOptions, SiteTensors};
use rcic_core::CHANNELS;

use rcic_core::normalize::ChannelNorm;

use crate::augment::{sample_rng, transform_into, AugmentOptions, Draw};
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
    /// Where `x` goes back when the batch is dropped.
    recycle: Option<Arc<Recycler>>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(r) = self.recycle.take() {
            r.give(std::mem::take(&mut self.x));
        }
    }
}

/// The float buffers of dropped batches, reused by the next ones: a new
/// buffer of a batch (144 MiB at 512 px, B = 24) is fresh memory that
/// page-faults on first touch, every batch. It keeps at most as many
/// buffers as can exist at once ([`PREPARED_AHEAD`] + 2), so it adds nothing
/// to the memory bound.
#[derive(Debug, Default)]
struct Recycler(Mutex<Vec<Vec<f32>>>);

impl Recycler {
    /// A buffer of `len` floats, reused when one is free. Its values are
    /// whatever they were: the transform overwrites every one.
    fn take(&self, len: usize) -> Vec<f32> {
        let free = self.0.lock().ok().and_then(|mut f| f.pop());
        let mut v = free.unwrap_or_default();
        v.resize(len, 0.0);
        v
    }

    fn give(&self, v: Vec<f32>) {
        if let Ok(mut f) = self.0.lock() {
            if f.len() < PREPARED_AHEAD + 2 {
                f.push(v);
            }
        }
    }
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
    let (tx, rx) = sync_channel(PREPARED_AHEAD);
    let o = o.clone();
    let recycle = Arc::new(Recycler::default());
    let handle = std::thread::spawn(move || {
        for b in batches {
            let item = b.map_err(TrainError::from).and_then(|b| {
                prepare(
                    b.index,
                    b.rows,
                    &b.pixels,
                    b.image_size,
                    &info,
                    &o,
                    &recycle,
                )
            });
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

/// Read-ahead of the pipeline thread: prepared batches queued for the
/// trainer (see the memory bound above).
pub const PREPARED_AHEAD: usize = 2;

fn prepare(
    index: usize,
    rows: Vec<u32>,
    pixels: &[u8],
    s: usize,
    info: &HashMap<u32, SiteInfo>,
    o: &LoaderOptions,
    recycle: &Arc<Recycler>,
) -> Result<Prepared, TrainError> {
    let infos = sample_infos(&rows, info)?;
    let mut x = recycle.take(rows.len() * CHANNELS * s * s);
    transform_batch(index, pixels, s, &infos, o, &mut x);
    let mut b = assemble(index, rows, x, &infos, s, o.cell_types);
    b.recycle = Some(recycle.clone());
    Ok(b)
}

/// The sample information of a batch's rows.
pub fn sample_infos(
    rows: &[u32],
    info: &HashMap<u32, SiteInfo>,
) -> Result<Vec<SiteInfo>, TrainError> {
    rows.iter()
        .map(|r| {
            info.get(r)
                .copied()
                .ok_or_else(|| TrainError::Data(format!("site row {r} has no sample information")))
        })
        .collect()
}

/// Augments and normalises batch `index`'s sites (`pixels`, n x 6 x S x S)
/// into `x` (as many floats), in parallel; sample k of the batch draws from
/// its own generator (seed, epoch, index * batch size + k).
pub fn transform_batch(
    index: usize,
    pixels: &[u8],
    s: usize,
    infos: &[SiteInfo],
    o: &LoaderOptions,
    x: &mut [f32],
) {
    let site = CHANNELS * s * s;
    x.par_chunks_mut(site)
        .zip(pixels.par_chunks(site))
        .enumerate()
        .for_each(|(k, (dst, src))| {
            let draw = match &o.augment {
                Some(a) => {
                    let mut rng = sample_rng(o.seed, o.epoch, (index * o.batch_size + k) as u64);
                    Draw::sample(s, &mut rng, a)
                }
                None => Draw::identity(s),
            };
            transform_into(src, s, &draw, infos[k].stats.as_ref(), dst);
        });
}

/// The batch for the model: samples, one-hot cell types and labels.
pub fn assemble(
    index: usize,
    rows: Vec<u32>,
    x: Vec<f32>,
    infos: &[SiteInfo],
    s: usize,
    cell_types: usize,
) -> Prepared {
    let mut cell = vec![0f32; infos.len() * cell_types];
    for (k, i) in infos.iter().enumerate() {
        cell[k * cell_types + i.cell_type] = 1.0;
    }
    Prepared {
        index,
        rows,
        x,
        cell,
        labels: infos.iter().map(|i| i.label).collect(),
        size: s,
        recycle: None,
    }
}
