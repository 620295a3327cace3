//! Reader of the preprocess stage's site tensors (`tensors-*.parquet`, see
//! `data-schemas/tensors.md`): random access to one site's 6 x S x S uint8
//! pixels by its row in `sites.parquet`, and a shuffled, batched,
//! multi-threaded iterator for training whose order depends only on a seed.
//!
//! ```no_run
//! use rcic_core::tensors::{BatchOptions, SiteTensors};
//! let t = SiteTensors::open("artifacts/preprocess/<key>".as_ref())?;
//! let site = t.site(0)?; // row 0 of sites.parquet
//! assert_eq!(site.pixels.len(), t.site_bytes());
//! let opts = BatchOptions { batch_size: 24, seed: 0, ..BatchOptions::default() };
//! for batch in t.batches(&t.all_rows(), &opts) {
//!     let batch = batch?; // batch.pixels: batch.rows.len() x 6 x S x S
//! }
//! # Ok::<(), rcic_core::CoreError>(())
//! ```
//!
//! Files are read with positioned reads (`pread`), so one [`SiteTensors`] is
//! shared by any number of threads without locks. Random access decodes one
//! Parquet row group (the writer keeps them at most a few hundred KiB of
//! pixels, one site at 512 px).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, UInt32Type};
use arrow_array::RecordBatch;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::{ChunkReader, Length};

use crate::error::{CoreError, Result};
use crate::index::CHANNELS;
use crate::pyrandom::PyRandom;

/// File name prefix and suffix of tensor files in an artifact folder.
pub const TENSORS_PREFIX: &str = "tensors-";
pub const TENSORS_SUFFIX: &str = ".parquet";

/// Makes glibc's allocator keep freed memory for reuse instead of returning
/// it to the kernel after every large free (`mallopt`: mmap threshold 32 MiB,
/// trim threshold 1 GiB, top pad 64 MiB). Reading or writing a site
/// allocates and frees several buffers of about 1.5 MB; with glibc's
/// defaults each one is fresh memory that page-faults on first touch, which
/// measured here as 2-3x slower reading and about 1.5x slower packing.
/// Peak memory is unchanged (freed blocks are reused); memory is simply not
/// handed back until exit. Call once at the start of a binary; a no-op
/// outside Linux with glibc.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
        const M_TOP_PAD: std::ffi::c_int = -2;
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        // SAFETY: mallopt only changes allocator tunables; any value is accepted or rejected.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
            mallopt(M_TOP_PAD, 64 << 20);
        }
    }
}

/// One site read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteTensor {
    /// The site's row in `sites.parquet`.
    pub row: u32,
    /// 6 x S x S uint8, channel-major (`c*S*S + y*S + x`).
    pub pixels: Vec<u8>,
    /// Per-channel mean of the pixels (0-255 scale).
    pub mean: [f32; CHANNELS],
    /// Per-channel standard deviation (divisor N-1).
    pub std: [f32; CHANNELS],
}

/// A file opened for positioned reads: `ChunkReader` without a shared
/// cursor, safe to use from many threads at once.
#[derive(Debug, Clone)]
struct PreadFile(Arc<File>);

impl Length for PreadFile {
    fn len(&self) -> u64 {
        self.0.metadata().map(|m| m.len()).unwrap_or(0)
    }
}

struct PreadCursor {
    file: Arc<File>,
    pos: u64,
}

impl Read for PreadCursor {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl ChunkReader for PreadFile {
    type T = std::io::BufReader<PreadCursor>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(std::io::BufReader::with_capacity(
            1 << 16,
            PreadCursor {
                file: self.0.clone(),
                pos: start,
            },
        ))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let mut buf = vec![0u8; length];
        self.0.read_exact_at(&mut buf, start)?;
        Ok(Bytes::from(buf))
    }
}

#[derive(Debug)]
struct TensorFile {
    path: PathBuf,
    file: PreadFile,
    meta: ArrowReaderMetadata,
    /// pixels, mean, std.
    values: ProjectionMask,
    /// pixels only.
    pixels: ProjectionMask,
    /// First row (within the file) of every row group, and the file's row count last.
    group_starts: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Loc {
    file: u32,
    group: u32,
    offset: u32,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    image_size: usize,
    dataset_key: String,
    files: Vec<TensorFile>,
    /// By `row`.
    locs: Vec<Loc>,
}

/// The site tensors of one preprocess artifact folder.
#[derive(Debug, Clone)]
pub struct SiteTensors {
    inner: Arc<Inner>,
}

impl SiteTensors {
    /// Opens every `tensors-*.parquet` of `dir` (an artifact folder), reads
    /// their footers and `row` columns, and checks that the rows are exactly
    /// 0..n, each once, and that every file has the same image size.
    /// When the folder has a manifest (a published artifact), every file it
    /// lists must be there with its size first.
    pub fn open(dir: &Path) -> Result<Self> {
        if dir.join(crate::store::MANIFEST).is_file() {
            crate::store::Artifact::open(dir)?.check_sizes()?;
        }
        let rd = std::fs::read_dir(dir)
            .map_err(|e| CoreError::io(dir, "cannot list the tensors folder", e))?;
        let mut paths: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy())
                    .is_some_and(|n| n.starts_with(TENSORS_PREFIX) && n.ends_with(TENSORS_SUFFIX))
            })
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(CoreError::MissingFile {
                path: dir.join("tensors-*.parquet"),
                expected: "the site tensors written by rcic-preprocess".into(),
            });
        }
        let mut files = Vec::with_capacity(paths.len());
        let mut image_size = None;
        let mut dataset_key = None;
        let mut rows: BTreeMap<u32, Loc> = BTreeMap::new();
        for (fi, path) in paths.into_iter().enumerate() {
            let pq = |e| CoreError::Parquet {
                path: path.clone(),
                cause: e,
            };
            let f = File::open(&path).map_err(|e| CoreError::io(&path, "cannot open", e))?;
            let file = PreadFile(Arc::new(f));
            let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(pq)?;
            let schema = meta.schema().clone();
            let fmt = |m: String| CoreError::Format {
                path: path.clone(),
                message: m,
            };
            let size: usize = schema
                .metadata()
                .get("image_size")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| fmt("no image_size in the schema metadata; expected a tensors file written by rcic-preprocess".into()))?;
            match image_size {
                None => image_size = Some(size),
                Some(s) if s != size => {
                    return Err(fmt(format!(
                        "image_size {size} differs from the other files' {s}"
                    )))
                }
                _ => {}
            }
            let key = schema
                .metadata()
                .get("dataset_key")
                .cloned()
                .unwrap_or_default();
            match &dataset_key {
                None => dataset_key = Some(key),
                Some(k) if *k != key => {
                    return Err(fmt(format!(
                        "dataset_key {key} differs from the other files' {k}"
                    )))
                }
                _ => {}
            }
            let col = |name: &str| -> Result<usize> {
                schema.index_of(name).map_err(|_| {
                    fmt(format!(
                        "no column {name:?}; expected the schema of data-schemas/tensors.md"
                    ))
                })
            };
            let (c_row, c_pix, c_mean, c_std) =
                (col("row")?, col("pixels")?, col("mean")?, col("std")?);
            let pdescr = meta.metadata().file_metadata().schema_descr();
            // Leaf indices: row, pixels are primitive; mean and std are lists with one leaf each.
            let leaf_of = |root: usize| {
                (0..pdescr.num_columns())
                    .find(|&l| pdescr.get_column_root_idx(l) == root)
                    .expect("leaf")
            };
            let values =
                ProjectionMask::leaves(pdescr, [leaf_of(c_pix), leaf_of(c_mean), leaf_of(c_std)]);
            let pixels = ProjectionMask::leaves(pdescr, [leaf_of(c_pix)]);
            let row_mask = ProjectionMask::leaves(pdescr, [leaf_of(c_row)]);
            let mut group_starts = vec![0usize];
            for rg in meta.metadata().row_groups() {
                let last = *group_starts.last().unwrap();
                group_starts.push(last + rg.num_rows() as usize);
            }
            let reader =
                ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), meta.clone())
                    .with_projection(row_mask)
                    .with_batch_size(8192)
                    .build()
                    .map_err(pq)?;
            let mut at = 0usize;
            let mut g = 0usize;
            for batch in reader {
                let batch = batch.map_err(|e| fmt(format!("cannot read the row column: {e}")))?;
                for r in batch.column(0).as_primitive::<UInt32Type>().values().iter() {
                    while at >= group_starts[g + 1] {
                        g += 1;
                    }
                    let loc = Loc {
                        file: fi as u32,
                        group: g as u32,
                        offset: (at - group_starts[g]) as u32,
                    };
                    if rows.insert(*r, loc).is_some() {
                        return Err(fmt(format!("row {r} appears twice in the tensor files")));
                    }
                    at += 1;
                }
            }
            files.push(TensorFile {
                path,
                file,
                meta,
                values,
                pixels,
                group_starts,
            });
        }
        let n = rows.len();
        if let Some((&last, _)) = rows.iter().next_back() {
            if last as usize != n - 1 {
                let missing = (0..=last).find(|r| !rows.contains_key(r)).unwrap_or(0);
                return Err(CoreError::Format {
                    path: dir.to_path_buf(),
                    message: format!("tensor rows are not 0..{n}: row {missing} is missing (an incomplete set of tensor files?)"),
                });
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                image_size: image_size.unwrap_or(0),
                dataset_key: dataset_key.unwrap_or_default(),
                files,
                locs: rows.into_values().collect(),
            }),
        })
    }

    /// The artifact folder.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Number of sites (rows of `sites.parquet`).
    pub fn len(&self) -> usize {
        self.inner.locs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.locs.is_empty()
    }

    /// S: every channel is S x S.
    pub fn image_size(&self) -> usize {
        self.inner.image_size
    }

    /// Bytes of one site's pixels: 6 * S * S.
    pub fn site_bytes(&self) -> usize {
        CHANNELS * self.inner.image_size * self.inner.image_size
    }

    /// The raw dataset's key recorded in the files.
    pub fn dataset_key(&self) -> &str {
        &self.inner.dataset_key
    }

    /// Every row, 0..len.
    pub fn all_rows(&self) -> Vec<u32> {
        (0..self.len() as u32).collect()
    }

    fn read_group(&self, row: u32, mask: &ProjectionMask) -> Result<RecordBatch> {
        let loc = *self.inner.locs.get(row as usize).ok_or_else(|| {
            CoreError::Config(format!(
                "site row {row} out of range: the tensors hold rows 0..{}",
                self.inner.locs.len()
            ))
        })?;
        let f = &self.inner.files[loc.file as usize];
        let pq = |e| CoreError::Parquet {
            path: f.path.clone(),
            cause: e,
        };
        let g = loc.group as usize;
        let group_rows = f.group_starts[g + 1] - f.group_starts[g];
        let mut b =
            ParquetRecordBatchReaderBuilder::new_with_metadata(f.file.clone(), f.meta.clone())
                .with_row_groups(vec![g])
                .with_projection(mask.clone())
                .with_batch_size(1);
        if group_rows > 1 {
            let mut sel = Vec::with_capacity(3);
            if loc.offset > 0 {
                sel.push(RowSelector::skip(loc.offset as usize));
            }
            sel.push(RowSelector::select(1));
            b = b.with_row_selection(RowSelection::from(sel));
        }
        let mut reader = b.build().map_err(pq)?;
        match reader.next() {
            Some(Ok(batch)) if batch.num_rows() == 1 => Ok(batch),
            Some(Err(e)) => Err(CoreError::Format {
                path: f.path.clone(),
                message: format!("cannot read row {row}: {e}"),
            }),
            _ => Err(CoreError::Format {
                path: f.path.clone(),
                message: format!("row {row} not found where the footer says"),
            }),
        }
    }

    /// Copies one site's pixels (6 x S x S) into `out`, which must be
    /// [`site_bytes`](Self::site_bytes) long.
    pub fn read_pixels_into(&self, row: u32, out: &mut [u8]) -> Result<()> {
        let f = self.inner.locs.get(row as usize).map(|l| l.file as usize);
        let mask = &self.inner.files[f.unwrap_or(0)].pixels;
        let batch = self.read_group(row, mask)?;
        let px = batch.column(0).as_fixed_size_binary();
        let v = px.value(0);
        if out.len() != v.len() {
            return Err(CoreError::Config(format!(
                "output buffer of {} bytes; a site has {}",
                out.len(),
                v.len()
            )));
        }
        out.copy_from_slice(v);
        Ok(())
    }

    /// One site's pixels and statistics, by its row in `sites.parquet`.
    pub fn site(&self, row: u32) -> Result<SiteTensor> {
        let f = self.inner.locs.get(row as usize).map(|l| l.file as usize);
        let mask = &self.inner.files[f.unwrap_or(0)].values;
        let batch = self.read_group(row, mask)?;
        let pixels = batch.column(0).as_fixed_size_binary().value(0).to_vec();
        let list = |i: usize| -> [f32; CHANNELS] {
            let l = batch.column(i).as_fixed_size_list();
            let v = l.value(0);
            let v = v.as_primitive::<Float32Type>();
            std::array::from_fn(|c| v.value(c))
        };
        Ok(SiteTensor {
            row,
            pixels,
            mean: list(1),
            std: list(2),
        })
    }

    /// Batches of `rows` (e.g. a training fold), read by `opts.threads`
    /// background threads; see [`BatchOptions`]. The order of rows, and so of
    /// batches, depends only on `rows`, `opts.seed` and `opts.shuffle`, never
    /// on the thread count or timing.
    pub fn batches(&self, rows: &[u32], opts: &BatchOptions) -> Batches {
        let mut order = rows.to_vec();
        if opts.shuffle {
            PyRandom::new(opts.seed).shuffle(&mut order);
        }
        let bs = opts.batch_size.max(1);
        let mut plan: Vec<Vec<u32>> = order.chunks(bs).map(|c| c.to_vec()).collect();
        if opts.drop_last && plan.last().is_some_and(|b| b.len() < bs) {
            plan.pop();
        }
        let plan = Arc::new(plan);
        let workers = opts.threads.max(1).min(plan.len().max(1));
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = sync_channel::<Result<Batch>>(opts.prefetch.max(1));
            let me = self.clone();
            let plan = plan.clone();
            receivers.push(rx);
            handles.push(std::thread::spawn(move || {
                let site = me.site_bytes();
                for i in (w..plan.len()).step_by(workers) {
                    let rows = plan[i].clone();
                    let mut pixels = vec![0u8; rows.len() * site];
                    let mut res = Ok(());
                    for (k, &r) in rows.iter().enumerate() {
                        if let Err(e) =
                            me.read_pixels_into(r, &mut pixels[k * site..(k + 1) * site])
                        {
                            res = Err(e);
                            break;
                        }
                    }
                    let item = res.map(|_| Batch {
                        index: i,
                        rows,
                        pixels,
                        image_size: me.image_size(),
                    });
                    if tx.send(item).is_err() {
                        return; // the consumer is gone
                    }
                }
            }));
        }
        Batches {
            receivers,
            handles,
            next: 0,
            total: plan.len(),
            failed: false,
        }
    }
}

/// Options of [`SiteTensors::batches`].
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Sites per batch (default 24, the method's batch size).
    pub batch_size: usize,
    /// Shuffle the rows (Python's `random.shuffle` seeded with `seed`) before batching (default true).
    pub shuffle: bool,
    pub seed: u64,
    /// Drop a last, incomplete batch (default true, as the method trains).
    pub drop_last: bool,
    /// Background reader threads (default: the machine's cores).
    pub threads: usize,
    /// Batches each thread reads ahead (default 2). Memory: about
    /// `threads * (prefetch + 1) * batch_size * 6 * S * S` bytes.
    pub prefetch: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            batch_size: 24,
            shuffle: true,
            seed: 0,
            drop_last: true,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            prefetch: 2,
        }
    }
}

/// A batch of sites: `rows.len()` x 6 x S x S uint8, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Position of the batch in the epoch.
    pub index: usize,
    /// Rows of `sites.parquet`, in batch order.
    pub rows: Vec<u32>,
    pub pixels: Vec<u8>,
    pub image_size: usize,
}

/// Iterator of [`Batch`]es in a fixed order; stops after the first error.
/// Dropping it stops the background threads.
pub struct Batches {
    receivers: Vec<Receiver<Result<Batch>>>,
    handles: Vec<JoinHandle<()>>,
    next: usize,
    total: usize,
    failed: bool,
}

impl Batches {
    /// Number of batches in the epoch.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl Iterator for Batches {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.next >= self.total || self.receivers.is_empty() {
            return None;
        }
        let rx = &self.receivers[self.next % self.receivers.len()];
        self.next += 1;
        match rx.recv() {
            Ok(Ok(b)) => Some(Ok(b)),
            Ok(Err(e)) => {
                self.failed = true;
                Some(Err(e))
            }
            Err(_) => {
                self.failed = true;
                Some(Err(CoreError::Store(
                    "a tensor reader thread stopped unexpectedly".into(),
                )))
            }
        }
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        self.receivers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tensors_schema;
    use arrow_array::{
        ArrayRef, FixedSizeBinaryArray, FixedSizeListArray, Float32Array, StringArray, UInt32Array,
        UInt8Array,
    };
    use arrow_schema::{DataType, Field};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    const S: usize = 4;

    fn pixel(row: u32, i: usize) -> u8 {
        (row as usize * 31 + i * 7) as u8
    }

    /// Writes rows `rows` into one file, `per_group` rows per row group.
    fn write_file(path: &Path, rows: &[u32], per_group: usize) {
        let mut schema = tensors_schema(S);
        schema.metadata.insert("dataset_key", "k");
        let schema = Arc::new(schema);
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(per_group))
            .build();
        let mut w =
            ArrowWriter::try_new(File::create(path).unwrap(), schema.clone(), Some(props)).unwrap();
        let n = rows.len();
        let sb = CHANNELS * S * S;
        let pix: Vec<Vec<u8>> = rows
            .iter()
            .map(|&r| (0..sb).map(|i| pixel(r, i)).collect())
            .collect();
        let list = |f: &dyn Fn(u32) -> f32| -> ArrayRef {
            let vals = Float32Array::from_iter_values(
                rows.iter()
                    .flat_map(|&r| (0..CHANNELS).map(move |c| f(r) + c as f32)),
            );
            Arc::new(FixedSizeListArray::new(
                Arc::new(Field::new("item", DataType::Float32, false)),
                CHANNELS as i32,
                Arc::new(vals),
                None,
            ))
        };
        let cols: Vec<ArrayRef> = vec![
            Arc::new(UInt32Array::from(rows.to_vec())),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| format!("E-01_1_B{r:02}")),
            )),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|_| "E-01"))),
            Arc::new(UInt8Array::from(vec![1u8; n])),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| format!("B{r:02}")),
            )),
            Arc::new(UInt8Array::from(vec![1u8; n])),
            Arc::new(FixedSizeBinaryArray::try_from_iter(pix.into_iter()).unwrap()),
            list(&|r| r as f32),
            list(&|r| r as f32 / 10.0),
        ];
        w.write(&RecordBatch::try_new(schema, cols).unwrap())
            .unwrap();
        w.close().unwrap();
    }

    fn fixture() -> (tempfile::TempDir, SiteTensors) {
        let d = tempfile::tempdir().unwrap();
        write_file(&d.path().join("tensors-a.parquet"), &[0, 1, 2, 3, 4], 2);
        write_file(
            &d.path().join("tensors-b.parquet"),
            &[5, 6, 7, 8, 9, 10, 11],
            3,
        );
        let t = SiteTensors::open(d.path()).unwrap();
        (d, t)
    }

    #[test]
    fn random_access_returns_each_rows_pixels_and_stats() {
        let (_d, t) = fixture();
        assert_eq!(t.len(), 12);
        assert_eq!(t.image_size(), S);
        assert_eq!(t.dataset_key(), "k");
        for r in [7u32, 0, 11, 4, 5, 2] {
            let s = t.site(r).unwrap();
            assert_eq!(s.row, r);
            assert_eq!(
                s.pixels,
                (0..t.site_bytes()).map(|i| pixel(r, i)).collect::<Vec<_>>()
            );
            assert_eq!(s.mean[3], r as f32 + 3.0);
            assert_eq!(s.std[0], r as f32 / 10.0);
        }
        assert!(t.site(12).is_err());
    }

    #[test]
    fn batches_are_deterministic_complete_and_independent_of_threads() {
        let (_d, t) = fixture();
        let rows = t.all_rows();
        let run = |threads: usize, seed: u64, drop_last: bool| -> Vec<Batch> {
            let o = BatchOptions {
                batch_size: 5,
                shuffle: true,
                seed,
                drop_last,
                threads,
                prefetch: 1,
            };
            t.batches(&rows, &o).map(|b| b.unwrap()).collect()
        };
        let a = run(1, 3, false);
        assert_eq!(a, run(4, 3, false));
        assert_ne!(
            a.iter().flat_map(|b| b.rows.clone()).collect::<Vec<_>>(),
            run(2, 4, false)
                .iter()
                .flat_map(|b| b.rows.clone())
                .collect::<Vec<_>>()
        );
        assert_eq!(a.len(), 3);
        let mut seen: Vec<u32> = a.iter().flat_map(|b| b.rows.clone()).collect();
        assert_ne!(seen, rows, "shuffled");
        seen.sort();
        assert_eq!(seen, rows);
        for b in &a {
            assert_eq!(b.index, a.iter().position(|x| x.index == b.index).unwrap());
            for (k, &r) in b.rows.iter().enumerate() {
                assert_eq!(
                    &b.pixels[k * t.site_bytes()..(k + 1) * t.site_bytes()],
                    t.site(r).unwrap().pixels.as_slice()
                );
            }
        }
        assert_eq!(run(3, 3, true).len(), 2);
        // Dropping a partly consumed iterator stops its threads.
        let o = BatchOptions {
            batch_size: 1,
            threads: 3,
            ..BatchOptions::default()
        };
        let mut it = t.batches(&rows, &o);
        it.next().unwrap().unwrap();
        drop(it);
    }

    #[test]
    fn a_file_of_another_size_than_the_manifest_says_is_refused() {
        let (d, _) = fixture();
        let files: Vec<crate::store::FileEntry> = ["tensors-a.parquet", "tensors-b.parquet"]
            .iter()
            .map(|n| crate::store::FileEntry {
                path: n.to_string(),
                bytes: std::fs::metadata(d.path().join(n)).unwrap().len(),
                blake3: String::new(),
            })
            .collect();
        let manifest = crate::store::Manifest {
            format: 1,
            stage: "preprocess".into(),
            version: "1".into(),
            key: "k".into(),
            params: serde_json::Value::Null,
            inputs: Vec::new(),
            files,
            tool: String::new(),
            created_unix: 0,
        };
        let m = d.path().join(crate::store::MANIFEST);
        std::fs::write(&m, serde_json::to_string(&manifest).unwrap()).unwrap();
        SiteTensors::open(d.path()).unwrap();
        // Truncated by one byte.
        let b = d.path().join("tensors-b.parquet");
        let bytes = std::fs::read(&b).unwrap();
        std::fs::write(&b, &bytes[..bytes.len() - 1]).unwrap();
        let e = SiteTensors::open(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("tensors-b.parquet")
                && e.contains("manifest says")
                && e.contains("recompute"),
            "{e}"
        );
        std::fs::remove_file(&b).unwrap();
        let e = SiteTensors::open(d.path()).unwrap_err().to_string();
        assert!(e.contains("tensors-b.parquet"), "{e}");
    }

    #[test]
    fn missing_rows_are_reported() {
        let d = tempfile::tempdir().unwrap();
        write_file(&d.path().join("tensors-a.parquet"), &[0, 1, 3], 2);
        let e = SiteTensors::open(d.path()).unwrap_err().to_string();
        assert!(e.contains("row 2 is missing"), "{e}");
    }
}
