//! The packing pass: decode each site's 6 PNGs (optionally downscale),
//! compute its statistics, and write one tensor file per plate.
//!
//! Row groups are decoded, encoded and zstd-compressed on `T` worker
//! threads with parquet's column-writer API and appended to their files in
//! order by a writing thread ([`ordered_map`]), so the output bytes do not
//! depend on the thread count. The writing thread hashes each file as it
//! writes it, so the artifact store does not read the output back to seal it.
//! One writer keeps up with about 8 workers; with more threads the plates
//! are split into lanes of at most [`WORKERS_PER_WRITER`] workers, each lane
//! with its own writer thread and its own plates.
//!
//! Memory bound: with `T` threads at most `W = min(2T, 32)` row groups are
//! alive at a time, shared out among the lanes (being decoded or encoded, or
//! waiting to be written), each
//! holding at most 5 copies of its pixels while it is encoded (the decoded
//! pixels; Parquet's arena copy of the values, its plain encoder's buffer
//! and the page it assembles for compression; the zstd output: 5 x 1.5 MiB
//! at 512 px) and one compressed copy while it waits.
//! So the pass holds at most `7.5 x W` MiB of pixel data at 512 px: 15 MiB
//! at 1 thread, 30 MiB at 2, 240 MiB from 16 threads on, whatever the dataset
//! size, plus the dataset index (about 200 bytes per site), Parquet's 8 KiB
//! write buffer per open file and the allocator's slack (see
//! data-schemas/tensors.md for the measured peaks). Each worker thread
//! keeps its pixel buffer from one row group to the next (it is the next
//! group's decoded copy, so it adds nothing to the bound), one PNG file's
//! bytes and the decoder's buffers (under 0.5 MiB at 512 px).
//!
//! Where the time goes is measured per part ([`crate::split`]).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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
use rcic_cli::progress::Progress;
use rcic_core::hashing::HashingWriter;
use rcic_core::CHANNELS;

use crate::downscale::area_downscale;
use crate::error::{FileProblem, PreprocessError, Result};
use crate::ordered::ordered_map;
use crate::plan::{PlatePlan, SitePlan};
use crate::png::{decode_bytes, read_file_into};
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
    /// Worker threads decoding and encoding row groups.
    pub threads: usize,
    /// Row groups alive at a time (decoded, encoded, or waiting to be written).
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
    /// Each tensor file written: name, bytes, blake3 hex.
    pub files: Vec<(String, u64, String)>,
}

/// Parquet's writer buffers small writes itself (8 KiB) and passes pages
/// (about 1 MB at 512 px) straight through: no buffer of ours copies them.
type FileWriter = SerializedFileWriter<HashingWriter<File>>;

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

fn open_file(path: &Path, schema: &SchemaRef, props: &WriterProperties) -> Result<FileWriter> {
    let f = File::create(path).map_err(|e| PreprocessError::io(path, "cannot create", e))?;
    let w = HashingWriter::new(f);
    ArrowWriter::try_new(w, schema.clone(), Some(props.clone()))
        .and_then(|w| w.into_serialized_writer())
        .map(|(fw, _)| fw)
        .map_err(|e| PreprocessError::Parquet {
            path: path.to_path_buf(),
            cause: e,
        })
}

/// The column writers' factory of every tensor file: it depends only on the
/// schema and the writer properties, which all plates share, so row groups
/// can be encoded before their file is opened.
fn group_factory(
    schema: &SchemaRef,
    props: &WriterProperties,
) -> Result<ArrowRowGroupWriterFactory> {
    ArrowWriter::try_new(std::io::sink(), schema.clone(), Some(props.clone()))
        .and_then(|w| w.into_serialized_writer())
        .map(|(_, factory)| factory)
        .map_err(|e| PreprocessError::Parquet {
            path: PathBuf::from("(tensor schema)"),
            cause: e,
        })
}

/// Buffers a worker thread keeps from one row group to the next: the bytes
/// of the PNG being decoded, the full-size image of a downscaled one, and
/// the pixel buffers of row groups already encoded (which Parquet's writer
/// has let go of), so that a group neither allocates nor zeroes its 1.5 MiB
/// at 512 px afresh.
#[derive(Default)]
struct Reuse {
    file: Vec<u8>,
    full_size: Vec<u8>,
    pixels: Vec<u8>,
}

thread_local! {
    static REUSE: std::cell::RefCell<Reuse> = std::cell::RefCell::new(Reuse::default());
}

/// One row group's outcome.
struct Group {
    chunks: Option<Vec<ArrowColumnChunk>>,
    sums: Sums,
    problems: Vec<FileProblem>,
    split: Split,
}

/// Decodes a site's 6 channels into `out` and sums each channel's pixels
/// right after decoding it, while they are still in the core's cache; `None`
/// when a file failed (its problem recorded).
fn decode_site(
    site: &SitePlan,
    cfg: &PackConfig,
    out: &mut [u8],
    reuse: &mut Reuse,
    problems: &mut Vec<FileProblem>,
    split: &mut Split,
) -> Option<[(u64, u64); CHANNELS]> {
    let s = cfg.image_size * cfg.image_size;
    let src = cfg.source_size as usize;
    let factor = src / cfg.image_size;
    let mut sums = [(0, 0); CHANNELS];
    let mut ok = true;
    for (c, path) in site.paths.iter().enumerate() {
        let dst = &mut out[c * s..(c + 1) * s];
        let bytes = &mut reuse.file;
        let r = timed(&mut split.read, || read_file_into(path, bytes)).and_then(|()| {
            timed(&mut split.decode, || {
                if factor == 1 {
                    decode_bytes(bytes, cfg.source_size, dst)
                } else {
                    let full = &mut reuse.full_size;
                    full.resize(src * src, 0);
                    decode_bytes(bytes, cfg.source_size, full)
                        .map(|_| area_downscale(full, src, factor, dst))
                }
            })
        });
        match r {
            Ok(()) => sums[c] = timed(&mut split.stats, || channel_sums(dst)),
            Err(message) => {
                problems.push(FileProblem {
                    path: path.clone(),
                    message,
                });
                ok = false;
            }
        }
    }
    ok.then_some(sums)
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
    let mut reuse = REUSE.take();
    // Every byte is decoded over before it is read; a group with a decode
    // failure is not written.
    let mut pixels = std::mem::take(&mut reuse.pixels);
    pixels.resize(sites.len() * sb, 0);
    let mut g = Group {
        chunks: None,
        sums: Sums::default(),
        problems: Vec::new(),
        split: Split::default(),
    };
    let (mut means, mut stds) = (
        Vec::with_capacity(sites.len() * CHANNELS),
        Vec::with_capacity(sites.len() * CHANNELS),
    );
    for (k, site) in sites.iter().enumerate() {
        let px = &mut pixels[k * sb..(k + 1) * sb];
        let Some(ch) = decode_site(site, cfg, px, &mut reuse, &mut g.problems, &mut g.split) else {
            continue;
        };
        g.sums.add_site(plane, &ch);
        for &(s, q) in &ch {
            let (m, sd) = mean_std(plane, s, q);
            means.push(m as f32);
            stds.push(sd as f32);
        }
    }
    if g.problems.is_empty() && encode {
        let t = std::time::Instant::now();
        let (chunks, back) = encode_group(
            plate,
            sites,
            group_index,
            cfg,
            schema,
            factory,
            pixels,
            means,
            stds,
        )?;
        g.chunks = Some(chunks);
        g.split.encode += t.elapsed().as_secs_f64();
        pixels = back.unwrap_or_default();
    }
    reuse.pixels = pixels;
    REUSE.set(reuse);
    Ok(g)
}

/// Encodes and compresses a row group's columns; gives back the pixel
/// buffer once Parquet's writer has let go of it.
#[allow(clippy::too_many_arguments)]
fn encode_group(
    plate: &PlatePlan,
    sites: &[SitePlan],
    group_index: usize,
    cfg: &PackConfig,
    schema: &SchemaRef,
    factory: &ArrowRowGroupWriterFactory,
    pixels: Vec<u8>,
    means: Vec<f32>,
    stds: Vec<f32>,
) -> Result<(Vec<ArrowColumnChunk>, Option<Vec<u8>>)> {
    let n = sites.len();
    let pixels = Arc::new(FixedSizeBinaryArray::try_new(
        cfg.site_bytes() as i32,
        Buffer::from_vec(pixels),
        None,
    )?);
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
        pixels.clone(),
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
    drop(batch);
    // The last reference to the pixels once the batch is gone.
    let values = pixels.values().clone();
    drop(pixels);
    Ok((chunks, values.into_vec::<u8>().ok()))
}

/// The files of the packing pass, written in order by the consumer of
/// [`ordered_map`]: plate `p`'s file is open while its row groups arrive.
struct Files<'a> {
    plates: &'a [&'a PlatePlan],
    out_dir: &'a Path,
    schema: &'a SchemaRef,
    props: &'a WriterProperties,
    /// The plate whose file is open (or would be, once nothing is written).
    cur: Option<(usize, Option<FileWriter>, Sums)>,
    out: PackOutput,
}

impl Files<'_> {
    /// Closes the open plate and opens every plate up to `p` (the plates
    /// before it have no sites: their files hold no row group).
    fn advance_to(&mut self, p: usize, writing: bool) -> Result<()> {
        while self.cur.as_ref().map_or(true, |c| c.0 < p) {
            let next = self.cur.as_ref().map_or(0, |c| c.0 + 1);
            self.close_current()?;
            let fw = if writing {
                let path = self.out_dir.join(self.plates[next].file_name());
                Some(open_file(&path, self.schema, self.props)?)
            } else {
                None
            };
            self.cur = Some((next, fw, Sums::default()));
        }
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        let Some((p, fw, sums)) = self.cur.take() else {
            return Ok(());
        };
        let plate = self.plates[p];
        if let Some(fw) = fw {
            let t = std::time::Instant::now();
            let name = plate.file_name();
            let path = self.out_dir.join(&name);
            let pq = |e| PreprocessError::Parquet {
                path: path.clone(),
                cause: e,
            };
            let (_, bytes, blake3) = fw
                .into_inner()
                .map_err(pq)?
                .finish()
                .map_err(|e| PreprocessError::io(&path, "cannot write", e))?;
            self.out.files.push((name, bytes, blake3));
            self.out.split.write += t.elapsed().as_secs_f64();
        }
        self.out.plates.push(PlateSums {
            experiment: plate.experiment.clone(),
            plate: plate.plate,
            sums,
        });
        Ok(())
    }

    /// Takes group `g`'s outcome: its sums and problems, and its row group
    /// appended to the plate's file while no problem was found.
    fn take(&mut self, p: usize, g: Group) -> Result<()> {
        self.advance_to(p, self.out.problems.is_empty())?;
        let cur = self.cur.as_mut().expect("advanced");
        cur.2.add(&g.sums);
        self.out.split.add(&g.split);
        if !g.problems.is_empty() {
            cur.1 = None; // nothing more is written
            self.out.problems.extend(g.problems);
        }
        if let (Some(fw), Some(chunks)) = (cur.1.as_mut(), g.chunks) {
            let t = std::time::Instant::now();
            let path = self.out_dir.join(self.plates[p].file_name());
            let pq = |e| PreprocessError::Parquet {
                path: path.clone(),
                cause: e,
            };
            let mut rg = fw.next_row_group().map_err(pq)?;
            for c in chunks {
                c.append_to_row_group(&mut rg).map_err(pq)?;
            }
            rg.close().map_err(pq)?;
            self.out.split.write += t.elapsed().as_secs_f64();
        }
        Ok(())
    }
}

/// Worker threads per writing thread. The thread that appends a plate's row
/// groups and hashes its file spends about 1 ms per 512 px site, a worker
/// about 8.5 ms reading, decoding and compressing it (the `-v` time split,
/// 384 synthetic sites): one writer keeps up with about 8 workers, so from
/// 7 threads on, plates are packed in lanes of at most this many workers,
/// each lane with its own writer and its own plates.
pub const WORKERS_PER_WRITER: usize = 6;

/// Packs `plates` into `out_dir/tensors-<experiment>_<plate>.parquet`, with
/// the size and blake3 hash of each file written ([`PackOutput::files`]).
/// Decoding failures do not stop the pass (every offending file is listed in
/// the output); after the first one, nothing more is written. The output
/// does not depend on the thread count: each file is written by one thread,
/// in order, and the plates' sums come back in the order of `plates`.
pub fn pack(
    plates: &[&PlatePlan],
    out_dir: &Path,
    cfg: &PackConfig,
    pb: &Progress,
) -> Result<PackOutput> {
    let threads = cfg.threads.max(1);
    let lanes = threads
        .div_ceil(WORKERS_PER_WRITER)
        .clamp(1, plates.len().max(1));
    // Plate i goes to lane i % lanes; threads and the window are shared out.
    let lane_plates: Vec<Vec<&PlatePlan>> = (0..lanes)
        .map(|l| plates.iter().skip(l).step_by(lanes).copied().collect())
        .collect();
    let share = |total: usize, l: usize| (total / lanes + usize::from(l < total % lanes)).max(1);
    let outs: Vec<Result<PackOutput>> = std::thread::scope(|scope| {
        let handles: Vec<_> = lane_plates
            .iter()
            .enumerate()
            .map(|(l, mine)| {
                let (t, w) = (share(threads, l), share(cfg.in_flight.max(1), l));
                scope.spawn(move || pack_lane(mine, out_dir, cfg, pb, t, w))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out = PackOutput::default();
    let mut by_lane = Vec::with_capacity(lanes);
    for o in outs {
        let o = o?;
        out.problems.extend(o.problems);
        out.split.add(&o.split);
        out.files.extend(o.files);
        by_lane.push(o.plates.into_iter());
    }
    for i in 0..plates.len() {
        out.plates.extend(by_lane[i % lanes].next());
    }
    out.problems.sort();
    Ok(out)
}

/// One lane of [`pack`]: its plates, in order, on `threads` workers with at
/// most `window` row groups alive.
fn pack_lane(
    plates: &[&PlatePlan],
    out_dir: &Path,
    cfg: &PackConfig,
    pb: &Progress,
    threads: usize,
    window: usize,
) -> Result<PackOutput> {
    let schema = tensor_schema(cfg);
    let props = writer_properties(cfg.zstd_level)?;
    let factory = group_factory(&schema, &props)?;
    let jobs: Vec<(usize, usize, &[SitePlan])> = plates
        .iter()
        .enumerate()
        .flat_map(|(p, plate)| {
            plate
                .sites
                .chunks(cfg.rows_per_group())
                .enumerate()
                .map(move |(g, sites)| (p, g, sites))
        })
        .collect();
    let failed = AtomicBool::new(false);
    let mut files = Files {
        plates,
        out_dir,
        schema: &schema,
        props: &props,
        cur: None,
        out: PackOutput::default(),
    };
    let job = |i: usize| {
        let (p, g, sites) = jobs[i];
        let encode = !failed.load(Ordering::Relaxed);
        let r = pack_group(plates[p], sites, g, cfg, &schema, &factory, encode);
        if r.as_ref().map_or(true, |g| !g.problems.is_empty()) {
            failed.store(true, Ordering::Relaxed);
        }
        r
    };
    ordered_map(jobs.len(), threads, window, job, |i, r| {
        let group = r?;
        pb.inc(jobs[i].2.len() as u64);
        files.take(jobs[i].0, group)
    })?;
    if !plates.is_empty() {
        files.advance_to(plates.len() - 1, files.out.problems.is_empty())?;
    }
    files.close_current()?;
    Ok(files.out)
}
