//! The packing pass: decode each site's 6 PNGs (optionally downscale),
//! compute its statistics, and write one tensor file per plate.
//!
//! Row groups are encoded and zstd-compressed in parallel (rayon) with
//! parquet's column-writer API, then appended in order by one writer
//! thread, so the output bytes do not depend on the thread count.
//!
//! Memory bound: with `T` threads, `B = min(2T, 32)` row groups are decoded
//! and encoded at a time, each holding at most 4 copies of its pixels while
//! it is encoded (the decoded pixels, Parquet's plain-encoded values and
//! page, the zstd output: 4 x 1.5 MiB at 512 px); at most two more batches
//! of `B` compressed row groups (at most 1.5 MiB each) wait for the writer.
//! So the pass holds at most `B x (6 + 2 x 1.5) = 9 x B` MiB of pixel data
//! at 512 px: 18 MiB at 1 thread, 36 MiB at 2, 288 MiB from 16 threads on,
//! whatever the dataset size, plus the dataset index (about 200 bytes per
//! site) and the allocator's slack (see data-schemas/tensors.md for the
//! measured peaks). Each thread also holds one PNG file's bytes and the
//! decoder's row buffers (a few hundred KB).
//!
//! Where the time goes is measured per part ([`crate::split`]).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, FixedSizeBinaryArray, FixedSizeListArray, Float32Array, RecordBatch, StringArray,
    UInt32Array, UInt8Array,
};
use arrow_buffer::Buffer;
use arrow_schema::{DataType, Field, SchemaRef};
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnChunk, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use rcic_cli::progress::Progress;
use rcic_core::CHANNELS;

use crate::downscale::area_downscale;
use crate::error::{FileProblem, PreprocessError, Result};
use crate::plan::{PlatePlan, SitePlan};
use crate::png::{decode_bytes, read_file};
use crate::split::{timed, Split};
use crate::stats::{channel_sums, mean_std, PlateSums, Sums};

/// Raw pixel bytes per row group: a row group holds
/// `max(1, ROW_GROUP_BYTES / (6*S*S))` sites (1 at 256 and 512 px, 2 at 128,
/// 10 at 64), so reading one site decodes at most this much besides the site.
pub const ROW_GROUP_BYTES: usize = 256 * 1024;

/// Default zstd level of the pixel data (see data-schemas/tensors.md for the measurement).
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;

#[derive(Debug, Clone)]
pub struct PackConfig {
    /// Side of the source PNGs.
    pub source_size: u32,
    /// Side of the stored tensors (divides `source_size`).
    pub image_size: usize,
    pub zstd_level: i32,
    pub dataset_key: String,
    /// Row groups decoded and encoded concurrently.
    pub in_flight: usize,
}

impl PackConfig {
    pub fn site_bytes(&self) -> usize {
        CHANNELS * self.image_size * self.image_size
    }

    pub fn rows_per_group(&self) -> usize {
        (ROW_GROUP_BYTES / self.site_bytes()).max(1)
    }
}

/// Sums of every packed plate, and the files that failed to decode.
#[derive(Debug, Default)]
pub struct PackOutput {
    pub plates: Vec<PlateSums>,
    pub problems: Vec<FileProblem>,
    /// Where the pass spent its time.
    pub split: Split,
}

type FileWriter = SerializedFileWriter<BufWriter<File>>;

enum Msg {
    Open(Box<FileWriter>, PathBuf),
    Groups(Vec<Vec<ArrowColumnChunk>>),
    Close,
}

/// The writer properties of tensor files: zstd at `level`, no statistics
/// (min/max of a 1.5 MB pixel value would bloat the footer), no dictionary
/// for the pixels.
pub fn writer_properties(level: i32) -> Result<WriterProperties> {
    let zstd = ZstdLevel::try_new(level)
        .map_err(|e| PreprocessError::Config(format!("--zstd-level {level}: {e}")))?;
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_statistics_enabled(EnabledStatistics::None)
        .set_column_dictionary_enabled(ColumnPath::from("pixels"), false)
        .build())
}

fn tensor_schema(cfg: &PackConfig) -> SchemaRef {
    let mut schema = rcic_core::schema::tensors_schema(cfg.image_size);
    schema
        .metadata
        .insert("dataset_key".to_string(), cfg.dataset_key.clone());
    Arc::new(schema)
}

fn open_file(
    path: &Path,
    schema: &SchemaRef,
    level: i32,
) -> Result<(FileWriter, ArrowRowGroupWriterFactory)> {
    let f = File::create(path).map_err(|e| PreprocessError::io(path, "cannot create", e))?;
    let pq = |e| PreprocessError::Parquet {
        path: path.to_path_buf(),
        cause: e,
    };
    let w = ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, f),
        schema.clone(),
        Some(writer_properties(level)?),
    )
    .map_err(pq)?;
    w.into_serialized_writer().map_err(pq)
}

/// One row group's outcome.
struct Group {
    chunks: Option<Vec<ArrowColumnChunk>>,
    sums: Sums,
    problems: Vec<FileProblem>,
    split: Split,
}

fn decode_site(
    site: &SitePlan,
    cfg: &PackConfig,
    out: &mut [u8],
    scratch: &mut Vec<u8>,
    problems: &mut Vec<FileProblem>,
    split: &mut Split,
) -> bool {
    let s = cfg.image_size * cfg.image_size;
    let src = cfg.source_size as usize;
    let factor = src / cfg.image_size;
    let mut ok = true;
    for (c, path) in site.paths.iter().enumerate() {
        let dst = &mut out[c * s..(c + 1) * s];
        let r = timed(&mut split.read, || read_file(path)).and_then(|bytes| {
            timed(&mut split.decode, || {
                if factor == 1 {
                    decode_bytes(&bytes, cfg.source_size, dst)
                } else {
                    scratch.resize(src * src, 0);
                    decode_bytes(&bytes, cfg.source_size, scratch)
                        .map(|_| area_downscale(scratch, src, factor, dst))
                }
            })
        });
        if let Err(message) = r {
            problems.push(FileProblem {
                path: path.clone(),
                message,
            });
            ok = false;
        }
    }
    ok
}

fn float_list(values: Vec<f32>) -> ArrayRef {
    Arc::new(FixedSizeListArray::new(
        Arc::new(Field::new("item", DataType::Float32, false)),
        CHANNELS as i32,
        Arc::new(Float32Array::from(values)),
        None,
    ))
}

fn pack_group(
    plate: &PlatePlan,
    sites: &[SitePlan],
    group_index: usize,
    cfg: &PackConfig,
    schema: &SchemaRef,
    factory: &ArrowRowGroupWriterFactory,
    encode: bool,
) -> Result<Group> {
    let sb = cfg.site_bytes();
    let plane = (cfg.image_size * cfg.image_size) as u64;
    let mut pixels = vec![0u8; sites.len() * sb];
    let mut scratch = Vec::new();
    let mut problems = Vec::new();
    let mut sums = Sums::default();
    let mut split = Split::default();
    let (mut means, mut stds) = (
        Vec::with_capacity(sites.len() * CHANNELS),
        Vec::with_capacity(sites.len() * CHANNELS),
    );
    for (k, site) in sites.iter().enumerate() {
        let px = &mut pixels[k * sb..(k + 1) * sb];
        if !decode_site(site, cfg, px, &mut scratch, &mut problems, &mut split) {
            continue;
        }
        timed(&mut split.stats, || {
            let ch: [(u64, u64); CHANNELS] = std::array::from_fn(|c| {
                channel_sums(&px[c * plane as usize..(c + 1) * plane as usize])
            });
            sums.add_site(plane, &ch);
            for &(s, q) in &ch {
                let (m, sd) = mean_std(plane, s, q);
                means.push(m as f32);
                stds.push(sd as f32);
            }
        });
    }
    if !problems.is_empty() || !encode {
        return Ok(Group {
            chunks: None,
            sums,
            problems,
            split,
        });
    }
    let t = std::time::Instant::now();
    let n = sites.len();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(UInt32Array::from_iter_values(sites.iter().map(|s| s.row))),
        Arc::new(StringArray::from_iter_values(
            sites.iter().map(|s| s.id_code.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            sites.iter().map(|_| plate.experiment.as_str()),
        )),
        Arc::new(UInt8Array::from(vec![plate.plate; n])),
        Arc::new(StringArray::from_iter_values(
            sites.iter().map(|s| s.well.as_str()),
        )),
        Arc::new(UInt8Array::from_iter_values(sites.iter().map(|s| s.site))),
        Arc::new(FixedSizeBinaryArray::try_new(
            sb as i32,
            Buffer::from_vec(pixels),
            None,
        )?),
        float_list(means),
        float_list(stds),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols)?;
    let pq = |e| PreprocessError::Parquet {
        path: PathBuf::from(plate.file_name()),
        cause: e,
    };
    let mut writers = factory
        .create_column_writers(group_index)
        .map_err(pq)?
        .into_iter();
    let mut chunks = Vec::with_capacity(schema.fields().len());
    for (field, col) in schema.fields().iter().zip(batch.columns()) {
        for leaf in compute_leaves(field, col).map_err(pq)? {
            let mut w = writers.next().expect("one writer per leaf");
            w.write(&leaf).map_err(pq)?;
            chunks.push(w.close().map_err(pq)?);
        }
    }
    split.encode += t.elapsed().as_secs_f64();
    Ok(Group {
        chunks: Some(chunks),
        sums,
        problems,
        split,
    })
}

/// Appends the row groups it receives, in order; returns its busy seconds.
fn writer_loop(rx: std::sync::mpsc::Receiver<Msg>) -> Result<f64> {
    let mut cur: Option<(Box<FileWriter>, PathBuf)> = None;
    let mut busy = 0.0;
    for msg in rx {
        let t = std::time::Instant::now();
        match msg {
            Msg::Open(w, p) => cur = Some((w, p)),
            Msg::Groups(groups) => {
                let (w, p) = cur.as_mut().expect("open before groups");
                let pq = |e| PreprocessError::Parquet {
                    path: p.clone(),
                    cause: e,
                };
                for g in groups {
                    let mut rg = w.next_row_group().map_err(pq)?;
                    for c in g {
                        c.append_to_row_group(&mut rg).map_err(pq)?;
                    }
                    rg.close().map_err(pq)?;
                }
            }
            Msg::Close => {
                let (w, p) = cur.take().expect("open before close");
                w.close()
                    .map_err(|e| PreprocessError::Parquet { path: p, cause: e })?;
            }
        }
        busy += t.elapsed().as_secs_f64();
    }
    Ok(busy)
}

/// Packs `plates` into `out_dir/tensors-<experiment>_<plate>.parquet`.
/// Decoding failures do not stop the pass (every offending file is listed in
/// the output); after the first one, nothing more is written.
pub fn pack(
    plates: &[&PlatePlan],
    out_dir: &Path,
    cfg: &PackConfig,
    pb: &Progress,
) -> Result<PackOutput> {
    let schema = tensor_schema(cfg);
    let failed = AtomicBool::new(false);
    let mut out = PackOutput::default();
    let (tx, rx) = sync_channel::<Msg>(1);
    std::thread::scope(|scope| -> Result<()> {
        let writer = scope.spawn(move || writer_loop(rx));
        let mut produce = || -> Result<()> {
            for plate in plates {
                let path = out_dir.join(plate.file_name());
                let (fw, factory) = open_file(&path, &schema, cfg.zstd_level)?;
                let mut writing = !failed.load(Ordering::Relaxed);
                if writing && tx.send(Msg::Open(Box::new(fw), path.clone())).is_err() {
                    return Ok(()); // the writer failed; its error is reported below
                }
                let groups: Vec<&[SitePlan]> = plate.sites.chunks(cfg.rows_per_group()).collect();
                let mut sums = Sums::default();
                for (batch_no, batch) in groups.chunks(cfg.in_flight.max(1)).enumerate() {
                    let first = batch_no * cfg.in_flight.max(1);
                    let encode = !failed.load(Ordering::Relaxed);
                    let results: Vec<Group> = batch
                        .par_iter()
                        .enumerate()
                        .map(|(i, sites)| {
                            pack_group(plate, sites, first + i, cfg, &schema, &factory, encode)
                        })
                        .collect::<Result<_>>()?;
                    let mut chunks = Vec::with_capacity(results.len());
                    for g in results {
                        sums.add(&g.sums);
                        out.split.add(&g.split);
                        if !g.problems.is_empty() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        out.problems.extend(g.problems);
                        chunks.extend(g.chunks);
                    }
                    pb.inc(batch.iter().map(|g| g.len() as u64).sum());
                    writing &= !failed.load(Ordering::Relaxed);
                    if writing && tx.send(Msg::Groups(chunks)).is_err() {
                        return Ok(());
                    }
                }
                if writing && tx.send(Msg::Close).is_err() {
                    return Ok(());
                }
                out.plates.push(PlateSums {
                    experiment: plate.experiment.clone(),
                    plate: plate.plate,
                    sums,
                });
            }
            Ok(())
        };
        let produced = produce();
        drop(tx);
        let written = writer.join().unwrap_or_else(|_| {
            Err(PreprocessError::Config(
                "the tensor writer thread panicked".into(),
            ))
        });
        // A failed writer (disk full...) explains a stopped producer: report it first.
        out.split.write = written?;
        produced
    })?;
    out.problems.sort();
    Ok(out)
}
