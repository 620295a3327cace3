//! The data path's benchmark (`rcic-train --bench-data-path`): the training
//! loader's throughput over one epoch without the model, and where a
//! sample's time goes, measured on one thread over the same rows:
//! decompression (the core reader: Parquet page, zstd), augmentation with
//! normalisation (one pass into the batch buffer), and batch assembly (the
//! batch's buffer, sample information, one-hot cell types, labels).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use rcic_core::tensors::SiteTensors;
use rcic_core::CHANNELS;

use crate::error::TrainError;
use crate::loader::{assemble, load, sample_infos, transform_batch, LoaderOptions, SiteInfo};

/// What the benchmark measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataPathBench {
    /// Samples per second of the loader with its threads.
    pub samples_per_s: f64,
    /// Milliseconds per sample on one thread.
    pub decompress_ms: f64,
    pub augment_ms: f64,
    pub assembly_ms: f64,
}

/// Batches of the per-sample split (the epoch's first ones).
const SPLIT_BATCHES: usize = 8;

/// Runs one epoch of the loader over `rows`, then the split.
pub fn run(
    tensors: &SiteTensors,
    rows: &[u32],
    infos: Arc<HashMap<u32, SiteInfo>>,
    o: &LoaderOptions,
) -> Result<DataPathBench, TrainError> {
    let t = Instant::now();
    let mut n = 0usize;
    for b in load(tensors, rows, infos.clone(), o) {
        n += b?.rows.len();
    }
    let samples_per_s = n as f64 / t.elapsed().as_secs_f64();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| TrainError::Data(format!("cannot start a benchmark thread: {e}")))?;
    let split = one.install(|| split(tensors, rows, &infos, o))?;
    Ok(DataPathBench {
        samples_per_s,
        ..split
    })
}

/// The per-sample split on the calling thread, in the loader's order of work.
fn split(
    tensors: &SiteTensors,
    rows: &[u32],
    infos: &HashMap<u32, SiteInfo>,
    o: &LoaderOptions,
) -> Result<DataPathBench, TrainError> {
    let s = tensors.image_size();
    let site = CHANNELS * s * s;
    let bs = o.batch_size.max(1);
    let (mut read, mut aug, mut asm, mut n) = (0f64, 0f64, 0f64, 0usize);
    // The loader reuses its batch buffers (dropped batches hand them back).
    let mut x = Vec::new();
    for (index, chunk) in rows.chunks(bs).take(SPLIT_BATCHES).enumerate() {
        let t0 = Instant::now();
        let mut pixels = vec![0u8; chunk.len() * site];
        for (k, &r) in chunk.iter().enumerate() {
            tensors.read_pixels_into(r, &mut pixels[k * site..(k + 1) * site])?;
        }
        let t1 = Instant::now();
        let batch_infos = sample_infos(chunk, infos)?;
        x.resize(chunk.len() * site, 0.0);
        let t2 = Instant::now();
        transform_batch(index, &pixels, s, &batch_infos, o, &mut x);
        let t3 = Instant::now();
        let mut b = assemble(index, chunk.to_vec(), x, &batch_infos, s, o.cell_types);
        x = std::mem::take(&mut b.x);
        let t4 = Instant::now();
        read += (t1 - t0).as_secs_f64();
        aug += (t3 - t2).as_secs_f64();
        asm += (t2 - t1).as_secs_f64() + (t4 - t3).as_secs_f64();
        n += chunk.len();
    }
    let ms = |t: f64| 1e3 * t / n.max(1) as f64;
    Ok(DataPathBench {
        samples_per_s: 0.0,
        decompress_ms: ms(read),
        augment_ms: ms(aug),
        assembly_ms: ms(asm),
    })
}
