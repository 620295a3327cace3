//! Section 9 steps 1 and 2 as arithmetic, streamed: per file, the site
//! logits of each well summed (treatment classes only, float32 as the
//! reference's numpy arrays), multiplied by the file's weight (float32), and
//! added into the ensemble: per split the sum over files, in file order, of
//! the wells each file has, wells sorted by id_code (the reference's order).
//!
//! The files' rows are pulled in file order ([`PredFile::row_source`]),
//! each decoded straight into its well's scratch row (copied for the first
//! site, added for the next, checked finite on the way), one experiment (of
//! one split) at a time across the files: its wells' sums are held in one
//! block buffer until every file has added to them, then the complete block
//! goes to the caller (plate groups and assignment, [`crate::pipeline`])
//! and its buffer is reused. Files sorted by well, as
//! `rcic-predict` writes them, need one scratch row per file and one block
//! buffer at a time, never a whole file's or the ensemble's logits. Other
//! orders give the same sums, holding more: a well's sites wait in a scratch
//! row until all have come, and a file's weighted sum that arrives before an
//! earlier file's waits until that one is added, so every sum is formed in
//! the reference's order.
//!
//! Each well's argmax (unweighted and weighted, for the per-file and
//! average scores) is taken when its sum is complete, and the ensemble's
//! when its last file has added to it. The sites are added in arrival
//! order: with two sites, `a + b == b + a` exactly in IEEE arithmetic, so
//! this is the reference's site-order sum.

use std::collections::HashMap;

use rcic_core::DatasetIndex;

use crate::error::EnsembleError;
use crate::pages::Dest;
use crate::read::{PredFile, PredSplit, RowSource};
use crate::scores::argmax;
use crate::simd::{add_into_max, argmax_given_max, copy_max, scale_max};
use crate::table::FileRows;

// Arrival order equals site order for the sum only with two sites (see the
// module doc).
const _: () = assert!(rcic_core::SITES == 2);

const NONE: u32 = u32::MAX;

/// Per-site transform before summing (an option beyond the reference):
/// `log_softmax(logits / temperature)` over all classes of the site.
fn log_softmax(site: &[f32], temperature: f64) -> Vec<f32> {
    let y: Vec<f64> = site.iter().map(|&x| x as f64 / temperature).collect();
    let m = y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + y.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    y.iter().map(|v| (v - lse) as f32).collect()
}

fn split_index(s: PredSplit) -> usize {
    match s {
        PredSplit::Val => 0,
        PredSplit::Test => 1,
    }
}

const SPLITS: [PredSplit; 2] = [PredSplit::Val, PredSplit::Test];

/// The ensemble's wells of one split.
#[derive(Debug, Clone, Default)]
pub struct Part {
    /// Dataset well indices, sorted by id_code.
    pub wells: Vec<usize>,
    /// Argmax of every well's ensemble sum.
    pub argmax: Vec<u32>,
    /// Position in `wells` of each dataset well (NONE: not there).
    pos: Vec<u32>,
    /// Files with the well, and how many have added to it.
    need: Vec<u16>,
    done: Vec<u16>,
    /// Block of the well, and its row there.
    block: Vec<u32>,
    slot: Vec<u32>,
}

/// The wells of one experiment of one split, summed together.
#[derive(Debug, Clone)]
struct Block {
    split: PredSplit,
    /// Positions in the part, ascending (id_code order).
    positions: Vec<usize>,
    /// Additions (file, well) still to come.
    left: usize,
    /// `positions.len() x classes`, taken from the pool at the first addition.
    rows: Vec<f32>,
}

/// A complete block: every file has added to every well.
#[derive(Debug)]
pub struct BlockView<'a> {
    pub split: PredSplit,
    /// Positions in the split's part, ascending (id_code order).
    pub positions: &'a [usize],
    /// Their dataset wells and ensemble argmaxes.
    pub wells: Vec<usize>,
    pub argmax: Vec<u32>,
    /// Their ensemble sums, row-major (`positions.len() x classes`).
    pub logits: &'a [f32],
    pub classes: usize,
}

impl BlockView<'_> {
    pub fn row(&self, k: usize) -> &[f32] {
        &self.logits[k * self.classes..(k + 1) * self.classes]
    }
}

/// The ensemble's layout and state: both splits, their experiment blocks.
#[derive(Debug, Clone, Default)]
pub struct Ensemble {
    pub val: Part,
    pub test: Part,
    pub classes: usize,
    blocks: Vec<Block>,
    pool: Vec<Vec<f32>>,
}

impl Ensemble {
    /// The wells of every file (their checked rows, in file order), `ids`
    /// the dataset's id_codes, `classes` the treatment classes kept.
    pub fn new(index: &DatasetIndex, files: &[&FileRows], ids: &[String], classes: usize) -> Self {
        let mut ens = Ensemble {
            classes,
            ..Default::default()
        };
        for s in SPLITS {
            let mut need = vec![0u16; ids.len()];
            for f in files {
                for &w in &f.split(s).wells {
                    need[w] += 1;
                }
            }
            let mut wells: Vec<usize> = (0..ids.len()).filter(|&w| need[w] > 0).collect();
            wells.sort_by(|&a, &b| ids[a].cmp(&ids[b]));
            let n = wells.len();
            let mut part = Part {
                pos: vec![NONE; ids.len()],
                need: wells.iter().map(|&w| need[w]).collect(),
                done: vec![0; n],
                argmax: vec![0; n],
                block: vec![0; n],
                slot: vec![0; n],
                wells,
            };
            let mut block_of_exp = vec![usize::MAX; index.experiments.len()];
            for (p, &w) in part.wells.iter().enumerate() {
                part.pos[w] = p as u32;
                let e = index.wells[w].experiment;
                if block_of_exp[e] == usize::MAX {
                    block_of_exp[e] = ens.blocks.len();
                    ens.blocks.push(Block {
                        split: s,
                        positions: Vec::new(),
                        left: 0,
                        rows: Vec::new(),
                    });
                }
                let b = block_of_exp[e];
                let blk = &mut ens.blocks[b];
                part.block[p] = b as u32;
                part.slot[p] = blk.positions.len() as u32;
                blk.positions.push(p);
                blk.left += usize::from(part.need[p]);
            }
            *ens.part_mut(s) = part;
        }
        ens
    }

    pub fn part(&self, s: PredSplit) -> &Part {
        match s {
            PredSplit::Val => &self.val,
            PredSplit::Test => &self.test,
        }
    }

    fn part_mut(&mut self, s: PredSplit) -> &mut Part {
        match s {
            PredSplit::Val => &mut self.val,
            PredSplit::Test => &mut self.test,
        }
    }

    /// Adds the weighted well sum `x` of the well at `p` of split `s` (the
    /// next file in order with the well); hands the block over when it is
    /// complete.
    fn add(
        &mut self,
        s: PredSplit,
        p: usize,
        x: &[f32],
        on_block: &mut dyn FnMut(BlockView) -> Result<(), EnsembleError>,
    ) -> Result<(), EnsembleError> {
        let classes = self.classes;
        let part = match s {
            PredSplit::Val => &mut self.val,
            PredSplit::Test => &mut self.test,
        };
        let (b, slot) = (part.block[p] as usize, part.slot[p] as usize);
        let blk = &mut self.blocks[b];
        if blk.rows.is_empty() {
            let mut rows = self.pool.pop().unwrap_or_default();
            rows.resize(blk.positions.len() * classes, 0.0);
            blk.rows = rows;
        }
        let row = &mut blk.rows[slot * classes..(slot + 1) * classes];
        let top = if part.done[p] == 0 {
            if part.need[p] == 1 {
                copy_max(row, x)
            } else {
                row.copy_from_slice(x);
                f32::NAN
            }
        } else {
            add_into_max(row, x)
        };
        part.done[p] += 1;
        if part.done[p] == part.need[p] {
            part.argmax[p] = argmax_given_max(row, top) as u32;
        }
        blk.left -= 1;
        if blk.left > 0 {
            return Ok(());
        }
        let view = BlockView {
            split: blk.split,
            positions: &blk.positions,
            wells: blk.positions.iter().map(|&q| part.wells[q]).collect(),
            argmax: blk.positions.iter().map(|&q| part.argmax[q]).collect(),
            logits: &blk.rows,
            classes,
        };
        let r = on_block(view);
        self.pool.push(std::mem::take(&mut blk.rows));
        r
    }
}

/// One split of one file: its wells (sorted by id_code) and the argmax of
/// each well's sum, unweighted and weighted.
#[derive(Debug, Clone, Default)]
pub struct FileSplit {
    pub wells: Vec<usize>,
    pub argmax: Vec<u32>,
    pub weighted_argmax: Vec<u32>,
}

/// What one file contributes to the scores.
#[derive(Debug, Clone, Default)]
pub struct FileSums {
    pub val: FileSplit,
    pub test: FileSplit,
}

impl FileSums {
    pub fn split(&self, s: PredSplit) -> &FileSplit {
        match s {
            PredSplit::Val => &self.val,
            PredSplit::Test => &self.test,
        }
    }

    fn split_mut(&mut self, s: PredSplit) -> &mut FileSplit {
        match s {
            PredSplit::Val => &mut self.val,
            PredSplit::Test => &mut self.test,
        }
    }
}

/// A file's well of one split.
struct Target {
    split: PredSplit,
    /// Index in the file's split lists.
    at: usize,
    /// Position in the ensemble part.
    pos: usize,
    /// Earlier files with the well: its turn to be added.
    rank: u16,
    /// Rows (sites) of the well.
    sites: u8,
    block: usize,
}

/// One file being streamed.
struct FileState<'a> {
    file: &'a PredFile,
    source: RowSource<'a>,
    weight: f32,
    targets: Vec<Target>,
    target_of_row: Vec<u32>,
    /// Rows of each block still to come from this file.
    block_left: Vec<usize>,
    /// Scratch rows of wells with sites still to come.
    slot_of: Vec<u32>,
    count: Vec<u8>,
    slots: Vec<Vec<f32>>,
    free: Vec<u32>,
    sums: FileSums,
}

/// Why streaming stopped.
#[derive(Debug)]
pub enum StreamError {
    /// File number `.0` is not read by the direct decoder (`.1` says why),
    /// or holds a non-finite logit: read it whole (which words the error of
    /// an invalid file) and stream again.
    Fallback(usize, String),
    /// File number `.0` has an invalid row (or the block handler failed).
    Row(usize, EnsembleError),
}

/// Steps 1 and 2 over every file (`files[i]` with its checked `rows[i]` and
/// `weights[i]`), into `ens` (fresh from [`Ensemble::new`] with these rows);
/// `on_block` receives every complete block. With `read_ahead`, each file's
/// pages are read on a thread of their own. Returns each file's argmaxes.
#[allow(clippy::too_many_arguments)]
pub fn stream(
    ens: &mut Ensemble,
    files: &[&PredFile],
    rows: &[&FileRows],
    weights: &[f32],
    temperature: Option<f64>,
    ids: &[String],
    read_ahead: bool,
    mut on_block: impl FnMut(BlockView) -> Result<(), EnsembleError>,
) -> Result<Vec<FileSums>, StreamError> {
    let classes = ens.classes;
    let nblocks = ens.blocks.len();
    let mut seen = [
        vec![0u16; ens.val.wells.len()],
        vec![0u16; ens.test.wells.len()],
    ];
    let mut st: Vec<FileState> = Vec::with_capacity(files.len());
    for (fi, (&file, &fr)) in files.iter().zip(rows).enumerate() {
        let source = file
            .row_source(read_ahead)
            .map_err(|e| StreamError::Fallback(fi, e.0))?;
        let mut s = FileState {
            file,
            source,
            weight: weights[fi],
            targets: Vec::new(),
            target_of_row: vec![NONE; file.rows()],
            block_left: vec![0; nblocks],
            slot_of: Vec::new(),
            count: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            sums: FileSums::default(),
        };
        for sp in SPLITS {
            let sr = fr.split(sp);
            let mut order: Vec<usize> = (0..sr.wells.len()).collect();
            order.sort_by(|&a, &b| ids[sr.wells[a]].cmp(&ids[sr.wells[b]]));
            let fs = s.sums.split_mut(sp);
            fs.wells = order.iter().map(|&k| sr.wells[k]).collect();
            fs.argmax = vec![0; order.len()];
            fs.weighted_argmax = vec![0; order.len()];
            let part = ens.part(sp);
            for (at, &k) in order.iter().enumerate() {
                let pos = part.pos[sr.wells[k]] as usize;
                let block = part.block[pos] as usize;
                for &r in &sr.rows[k] {
                    s.target_of_row[r] = s.targets.len() as u32;
                    s.block_left[block] += 1;
                }
                let seen = &mut seen[split_index(sp)][pos];
                s.targets.push(Target {
                    split: sp,
                    at,
                    pos,
                    rank: *seen,
                    sites: sr.rows[k].len() as u8,
                    block,
                });
                *seen += 1;
            }
        }
        s.slot_of = vec![NONE; s.targets.len()];
        s.count = vec![0; s.targets.len()];
        st.push(s);
    }
    // Blocks in the order the files first reach them.
    let mut order = Vec::with_capacity(nblocks);
    let mut listed = vec![false; nblocks];
    for s in &st {
        for &t in &s.target_of_row {
            if t != NONE {
                let b = s.targets[t as usize].block;
                if !listed[b] {
                    listed[b] = true;
                    order.push(b);
                }
            }
        }
    }
    // Weighted well sums that came before an earlier file's.
    let mut waiting: HashMap<(usize, usize, u16), Vec<f32>> = HashMap::new();
    let mut site_buf = Vec::new();
    let mut pull = |fi: usize,
                    st: &mut Vec<FileState>,
                    ens: &mut Ensemble,
                    waiting: &mut HashMap<(usize, usize, u16), Vec<f32>>|
     -> Result<bool, StreamError> {
        let s = &mut st[fi];
        let Some(r) = s.source.next_index() else {
            return Ok(false);
        };
        let t = s.target_of_row[r];
        // With a temperature the whole row is transformed first; else the
        // row goes straight from its page into the well's scratch row.
        let (slot, top) = if let (Some(temp), true) = (temperature, t != NONE) {
            let (r, vals, finite) = match s.source.next_row() {
                Ok(Some(x)) => x,
                Ok(None) => return Ok(false),
                Err(e) => return Err(StreamError::Fallback(fi, e.0)),
            };
            if !finite {
                s.file
                    .check_finite(r, vals)
                    .map_err(|e| StreamError::Row(fi, e))?;
            }
            site_buf = log_softmax(vals, temp);
            let x = &site_buf[..classes];
            let t = t as usize;
            if s.slot_of[t] == NONE {
                let k = s.free.pop().unwrap_or_else(|| {
                    s.slots.push(vec![0.0; classes]);
                    (s.slots.len() - 1) as u32
                });
                s.slot_of[t] = k;
                s.slots[k as usize].copy_from_slice(x);
                (k as usize, None)
            } else {
                let k = s.slot_of[t] as usize;
                (k, Some(add_into_max(&mut s.slots[k], x)))
            }
        } else {
            let (dest, slot, first) = if t == NONE {
                (Dest::Check, 0, true)
            } else if s.slot_of[t as usize] == NONE {
                let k = s.free.pop().unwrap_or_else(|| {
                    s.slots.push(vec![0.0; classes]);
                    (s.slots.len() - 1) as u32
                });
                s.slot_of[t as usize] = k;
                (Dest::Copy(&mut s.slots[k as usize]), k as usize, true)
            } else {
                let k = s.slot_of[t as usize] as usize;
                (Dest::Add(&mut s.slots[k]), k, false)
            };
            let (_, finite, top) = match s.source.next_into(dest) {
                Ok(Some(x)) => x,
                Ok(None) => return Ok(false),
                Err(e) => return Err(StreamError::Fallback(fi, e.0)),
            };
            if !finite {
                // Read whole, the file's first bad row is worded.
                return Err(StreamError::Fallback(fi, "non-finite logits".into()));
            }
            if t == NONE {
                return Ok(true);
            }
            (slot, (!first).then_some(top))
        };
        let t = t as usize;
        s.count[t] += 1;
        let tg = &s.targets[t];
        s.block_left[tg.block] -= 1;
        if s.count[t] < tg.sites {
            return Ok(true);
        }
        // The well's sum is complete.
        s.slot_of[t] = NONE;
        s.free.push(slot as u32);
        let acc = &mut s.slots[slot];
        let a = match top {
            Some(top) => argmax_given_max(acc, top),
            None => argmax(acc),
        } as u32;
        let wa = if s.weight != 1.0 {
            let top = scale_max(acc, s.weight);
            argmax_given_max(acc, top) as u32
        } else {
            a
        };
        let fs = s.sums.split_mut(tg.split);
        fs.argmax[tg.at] = a;
        fs.weighted_argmax[tg.at] = wa;
        let (sp, p) = (tg.split, tg.pos);
        let si = split_index(sp);
        let part = ens.part(sp);
        if part.done[p] != tg.rank {
            waiting.insert((si, p, tg.rank), acc.clone());
            return Ok(true);
        }
        let row = row_fn(&mut on_block);
        ens.add(sp, p, acc, row)
            .map_err(|e| StreamError::Row(fi, e))?;
        while let Some(x) = (!waiting.is_empty())
            .then(|| waiting.remove(&(si, p, ens.part(sp).done[p])))
            .flatten()
        {
            ens.add(sp, p, &x, row_fn(&mut on_block))
                .map_err(|e| StreamError::Row(fi, e))?;
        }
        Ok(true)
    };
    for &b in &order {
        for fi in 0..st.len() {
            while st[fi].block_left[b] > 0 {
                if !pull(fi, &mut st, ens, &mut waiting)? {
                    return Err(StreamError::Fallback(fi, "rows end early".into()));
                }
            }
        }
    }
    // The rows after the last well (control wells): checked too.
    for fi in 0..st.len() {
        while pull(fi, &mut st, ens, &mut waiting)? {}
        st[fi]
            .source
            .finish()
            .map_err(|e| StreamError::Fallback(fi, e.0))?;
    }
    debug_assert!(waiting.is_empty() && ens.blocks.iter().all(|b| b.left == 0));
    Ok(st.into_iter().map(|s| s.sums).collect())
}

/// The block handler as a trait object.
fn row_fn<'a, F>(f: &'a mut F) -> &'a mut dyn FnMut(BlockView) -> Result<(), EnsembleError>
where
    F: FnMut(BlockView) -> Result<(), EnsembleError>,
{
    f
}
