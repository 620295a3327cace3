//! A direct decoder of a prediction file's `logits` column: its Parquet
//! pages (float32 PLAIN or dictionary encoded, RLE/bit-packed levels, data
//! pages v1 or v2, any codec the parquet crate reads) become whole rows of
//! `classes` floats, pulled one at a time in file order through one reused
//! row buffer ([`RowStream`]): no Arrow arrays, no copy of the whole column
//! in memory.
//!
//! Every level is checked: no null list or element, and repetition levels
//! that make rows of exactly `classes` values. Anything else (null entries,
//! other encodings or layouts, inconsistent levels) stops the decoder with
//! [`Unsupported`] before the page's rows are handed out; the caller then
//! falls back to the Arrow reader ([`crate::read::PredFile::read`]), which
//! decodes every valid file and words every invalid one.

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};

use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::{Page, PageReader};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::simd::{add_into_max, add_le_max_finite, all_finite, copy_le_finite, le_finite};

/// Where [`RowStream::next_into`] puts a row's first `dst.len()` values
/// (the rest, and with `Check` all, are only checked finite).
pub enum Dest<'a> {
    Check,
    Copy(&'a mut [f32]),
    /// Added, and the largest sum returned.
    Add(&'a mut [f32]),
}

impl Dest<'_> {
    fn len(&self) -> usize {
        match self {
            Dest::Check => 0,
            Dest::Copy(d) | Dest::Add(d) => d.len(),
        }
    }

    /// Values `at..at + src.len()` of the row (all below `len()`), from
    /// memory; the largest sum so far in `top`. Whether all are finite.
    pub fn put(&mut self, at: usize, src: &[f32], top: &mut f32) -> bool {
        match self {
            Dest::Check => {}
            Dest::Copy(d) => d[at..at + src.len()].copy_from_slice(src),
            Dest::Add(d) => {
                let m = add_into_max(&mut d[at..at + src.len()], src);
                if m > *top {
                    *top = m;
                }
            }
        }
        all_finite(src)
    }

    /// As [`Dest::put`], from little-endian bytes.
    fn put_le(&mut self, at: usize, src: &[u8], top: &mut f32) -> bool {
        let n = src.len() / 4;
        match self {
            Dest::Check => le_finite(src),
            Dest::Copy(d) => copy_le_finite(src, &mut d[at..at + n]),
            Dest::Add(d) => {
                let (m, ok) = add_le_max_finite(src, &mut d[at..at + n]);
                if m > *top {
                    *top = m;
                }
                ok
            }
        }
    }
}

/// The decoder does not read this file (or found it invalid): use the Arrow
/// reader. The reason, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

fn unsupported(m: impl Into<String>) -> Unsupported {
    Unsupported(m.into())
}

/// Little-endian float32 bytes into floats.
fn le_into(src: &[u8], dst: &mut [f32]) {
    debug_assert_eq!(src.len(), dst.len() * 4);
    #[cfg(target_endian = "little")]
    // SAFETY: `dst` is `src.len()` bytes long, the regions are distinct
    // (one borrowed shared, one exclusive) and every bit pattern is a valid
    // f32.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), src.len());
    }
    #[cfg(not(target_endian = "little"))]
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(4)) {
        *d = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
    }
}

/// Bits needed for levels up to `max`.
fn bit_width(max: u32) -> u32 {
    32 - max.leading_zeros()
}

fn uleb128(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((x, i + 1));
        }
    }
    None
}

/// A bit-packed run: its bytes, the index of its first value, and how many
/// of its values count.
struct Packed<'a> {
    bytes: &'a [u8],
    first: usize,
    count: usize,
}

impl Packed<'_> {
    /// The run's values (`width` bits each, 1..=32), through a 64-bit
    /// buffer.
    fn each(&self, width: u32, mut f: impl FnMut(usize, u32) -> bool) -> bool {
        let mask = (1u64 << width) - 1;
        let (mut acc, mut bits, mut next) = (0u64, 0u32, 0usize);
        for k in 0..self.count {
            while bits < width {
                acc |= u64::from(self.bytes[next]) << bits;
                next += 1;
                bits += 8;
            }
            if !f(k, (acc & mask) as u32) {
                return false;
            }
            acc >>= width;
            bits -= width;
        }
        true
    }
}

/// One run of the RLE/bit-packed hybrid encoding.
enum Run<'a> {
    /// `count` values equal to `value`, the first at index `first`.
    Same {
        value: u32,
        first: usize,
        count: usize,
    },
    Packed(Packed<'a>),
}

/// Walks the runs of `n` values of the RLE/bit-packed hybrid encoding
/// (`width` bits each). False when the data is malformed or `f` says so.
fn runs(data: &[u8], width: u32, n: usize, mut f: impl FnMut(Run) -> bool) -> bool {
    if width > 32 {
        return false;
    }
    let vbytes = width.div_ceil(8) as usize;
    let (mut i, mut done) = (0usize, 0usize);
    while done < n {
        let Some((h, l)) = data.get(i..).and_then(uleb128) else {
            return false;
        };
        i += l;
        let count = (h >> 1) as usize;
        if count == 0 {
            return false;
        }
        if h & 1 == 0 {
            let Some(vb) = data.get(i..i + vbytes) else {
                return false;
            };
            i += vbytes;
            let value = vb
                .iter()
                .enumerate()
                .fold(0u32, |a, (k, &b)| a | u32::from(b) << (8 * k));
            let count = count.min(n - done);
            if !f(Run::Same {
                value,
                first: done,
                count,
            }) {
                return false;
            }
            done += count;
        } else {
            // `count` groups of 8 values.
            let nbytes = count * width as usize;
            let Some(bytes) = data.get(i..i + nbytes) else {
                return false;
            };
            i += nbytes;
            let take = (count * 8).min(n - done);
            if !f(Run::Packed(Packed {
                bytes,
                first: done,
                count: take,
            })) {
                return false;
            }
            done += take;
        }
    }
    true
}

/// [`runs`] as `run(value, first, count)` calls, bit-packed values one at a
/// time.
fn hybrid(
    data: &[u8],
    width: u32,
    n: usize,
    mut run: impl FnMut(u32, usize, usize) -> bool,
) -> bool {
    runs(data, width, n, |r| match r {
        Run::Same {
            value,
            first,
            count,
        } => run(value, first, count),
        Run::Packed(p) if width == 0 => run(0, p.first, p.count),
        Run::Packed(p) => p.each(width, |k, v| run(v, p.first + k, 1)),
    })
}

/// The column's shape: levels and where each page's levels start in the
/// column (counted in values, all rows having `classes` of them).
struct Levels {
    classes: usize,
    max_def: u32,
    max_rep: u32,
    /// Values (= levels, nothing being null) before the current page.
    seen: usize,
}

impl Levels {
    /// A data page's `n` levels: whole rows, nothing null.
    fn check(&self, rep: &[u8], def: &[u8], n: usize) -> Result<(), Unsupported> {
        if !self.check_rep(rep, n) {
            return Err(unsupported("repetition levels"));
        }
        if self.max_def > 0 && !self.check_def(def, n) {
            return Err(unsupported("definition levels (nulls)"));
        }
        Ok(())
    }

    /// Definition levels: every one the maximum (no null list or element).
    fn check_def(&self, data: &[u8], n: usize) -> bool {
        let max = self.max_def;
        hybrid(data, bit_width(max), n, |v, _, _| v == max)
    }

    /// Repetition levels: 0 at the first value of every row, 1 elsewhere.
    fn check_rep(&self, data: &[u8], n: usize) -> bool {
        let (c, base) = (self.classes, self.seen);
        let width = bit_width(self.max_rep);
        let run = |v: u32, first: usize, count: usize| {
            let at = (base + first) % c;
            match v {
                0 => c == 1 || (count == 1 && at == 0),
                1 => c > 1 && at != 0 && at + count <= c,
                _ => false,
            }
        };
        // One bit per level, rows of at least 8: each byte of a bit-packed
        // run is all ones but at most one row start, compared whole.
        let bytewise = |p: &Packed| {
            p.bytes.iter().enumerate().all(|(k, &b)| {
                let vals = p.count.saturating_sub(8 * k).min(8);
                if vals == 0 {
                    return true;
                }
                let start = (c - (base + p.first + 8 * k) % c) % c;
                let want = if start < 8 { !(1u8 << start) } else { 0xff };
                let mask = if vals == 8 { 0xff } else { (1u8 << vals) - 1 };
                (b ^ want) & mask == 0
            })
        };
        runs(data, width, n, |r| match r {
            Run::Same {
                value,
                first,
                count,
            } => run(value, first, count),
            Run::Packed(p) if width == 1 && c >= 8 => bytewise(&p),
            Run::Packed(p) if width == 0 => run(0, p.first, p.count),
            Run::Packed(p) => p.each(width, |k, v| run(v, p.first + k, 1)),
        })
    }
}

/// Splits a v1 page's RLE levels (4-byte length, then the runs) off `b`.
fn v1_levels<'a>(b: &mut &'a [u8], enc: Encoding) -> Result<&'a [u8], Unsupported> {
    if enc != Encoding::RLE || b.len() < 4 {
        return Err(unsupported("levels not RLE"));
    }
    let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let l = b
        .get(4..4 + len)
        .ok_or_else(|| unsupported("short levels"))?;
    *b = &b[4 + len..];
    Ok(l)
}

/// The values of the current data page not handed out yet.
enum Current {
    None,
    /// PLAIN: the page, and the byte range of its values still to take.
    Plain {
        page: Page,
        at: usize,
        end: usize,
    },
    /// Dictionary-decoded values (in the stream's scratch), from `at`.
    Decoded {
        at: usize,
    },
}

/// What the page source hands over next.
enum Fetched {
    Page(Page),
    /// The next row group's column chunk starts (its own dictionary).
    NewGroup,
    End,
}

/// The column's pages, chunk after chunk, read (and decompressed) by the
/// parquet crate.
struct Direct {
    reader: SerializedFileReader<File>,
    column: usize,
    next_group: usize,
    pages: Option<Box<dyn PageReader>>,
}

impl Direct {
    fn fetch(&mut self) -> Result<Fetched, Unsupported> {
        let pq = |e: parquet::errors::ParquetError| unsupported(e.to_string());
        loop {
            let Some(pages) = &mut self.pages else {
                if self.next_group == self.reader.metadata().num_row_groups() {
                    return Ok(Fetched::End);
                }
                let rg = self.reader.get_row_group(self.next_group).map_err(pq)?;
                self.pages = Some(rg.get_column_page_reader(self.column).map_err(pq)?);
                self.next_group += 1;
                return Ok(Fetched::NewGroup);
            };
            match pages.get_next_page().map_err(pq)? {
                Some(p) => return Ok(Fetched::Page(p)),
                None => self.pages = None,
            }
        }
    }
}

/// Pages read here, or ahead on a thread of their own.
enum Source {
    Direct(Direct),
    Ahead(Receiver<Result<Fetched, Unsupported>>),
}

impl Source {
    fn fetch(&mut self) -> Result<Fetched, Unsupported> {
        match self {
            Source::Direct(d) => d.fetch(),
            Source::Ahead(rx) => rx
                .recv()
                .unwrap_or_else(|_| Err(unsupported("page reader thread stopped"))),
        }
    }
}

/// Pages read ahead per file: enough to keep the reader thread busy while
/// the rows of the previous ones are used, little memory (pages are about
/// 1 MB).
const PAGES_AHEAD: usize = 4;

/// The rows of the float32 leaf of a list column, pulled one at a time in
/// file order ([`RowStream::next_row`]).
pub struct RowStream {
    source: Source,
    dict: Option<Vec<f32>>,
    levels: Levels,
    cur: Current,
    scratch: Vec<f32>,
    row: Vec<f32>,
    next: usize,
    rows: usize,
}

impl RowStream {
    /// Opens the leaf of list column `column` of the Parquet file `path`,
    /// expected to hold `rows` rows of `classes` float32 values. With
    /// `read_ahead`, a thread of its own reads and decompresses the pages
    /// ahead of their use.
    pub fn open(
        path: &Path,
        column: &str,
        classes: usize,
        rows: usize,
        read_ahead: bool,
    ) -> Result<Self, Unsupported> {
        let file = File::open(path).map_err(|e| unsupported(e.to_string()))?;
        let reader = SerializedFileReader::new(file).map_err(|e| unsupported(e.to_string()))?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let leaves: Vec<usize> = (0..schema.num_columns())
            .filter(|&i| {
                schema.column(i).path().parts().first().map(String::as_str) == Some(column)
            })
            .collect();
        let [ci] = leaves[..] else {
            return Err(unsupported("not one leaf column"));
        };
        let desc = schema.column(ci);
        if desc.physical_type() != PhysicalType::FLOAT || desc.max_rep_level() != 1 || classes == 0
        {
            return Err(unsupported("not a list of float32"));
        }
        let levels = Levels {
            classes,
            max_def: desc.max_def_level().max(0) as u32,
            max_rep: 1,
            seen: 0,
        };
        let mut direct = Direct {
            reader,
            column: ci,
            next_group: 0,
            pages: None,
        };
        let source = if read_ahead {
            let (tx, rx) = sync_channel(PAGES_AHEAD);
            // Ends at the last page, at an error, or when the stream is
            // dropped (its receiver gone).
            std::thread::spawn(move || loop {
                let f = direct.fetch();
                let more = matches!(f, Ok(Fetched::Page(_) | Fetched::NewGroup));
                if tx.send(f).is_err() || !more {
                    break;
                }
            });
            Source::Ahead(rx)
        } else {
            Source::Direct(direct)
        };
        Ok(RowStream {
            source,
            dict: None,
            levels,
            cur: Current::None,
            scratch: Vec::new(),
            row: vec![0f32; classes],
            next: 0,
            rows,
        })
    }

    /// The next row (its index, its values, whether all are finite), None
    /// after the last one.
    pub fn next_row(&mut self) -> Result<Option<(usize, &[f32], bool)>, Unsupported> {
        if self.next == self.rows {
            return Ok(None);
        }
        let c = self.levels.classes;
        let mut pos = 0;
        let mut finite = true;
        while pos < c {
            let took = match &mut self.cur {
                Current::None => {
                    if !self.load_page()? {
                        return Err(unsupported(format!(
                            "values end in row {} of {}",
                            self.next, self.rows
                        )));
                    }
                    continue;
                }
                Current::Plain { page, at, end } => {
                    let take = (c - pos).min((*end - *at) / 4);
                    finite &= copy_le_finite(
                        &page.buffer()[*at..*at + take * 4],
                        &mut self.row[pos..pos + take],
                    );
                    *at += take * 4;
                    take
                }
                Current::Decoded { at } => {
                    let take = (c - pos).min(self.scratch.len() - *at);
                    let dst = &mut self.row[pos..pos + take];
                    dst.copy_from_slice(&self.scratch[*at..*at + take]);
                    finite &= all_finite(dst);
                    *at += take;
                    take
                }
            };
            if took == 0 {
                self.cur = Current::None;
            }
            pos += took;
        }
        let r = self.next;
        self.next += 1;
        Ok(Some((r, &self.row, finite)))
    }

    /// Index of the row [`RowStream::next_into`] reads next (None after the
    /// last).
    pub fn next_index(&self) -> Option<usize> {
        (self.next < self.rows).then_some(self.next)
    }

    /// Reads the next row into `into` (its first values; all checked
    /// finite), without the row buffer: its index, whether every value is
    /// finite, and with [`Dest::Add`] the largest sum (NaNs ignored). None
    /// after the last row.
    pub fn next_into(
        &mut self,
        mut into: Dest<'_>,
    ) -> Result<Option<(usize, bool, f32)>, Unsupported> {
        if self.next == self.rows {
            return Ok(None);
        }
        let (c, t) = (self.levels.classes, into.len());
        assert!(t <= c, "{t} values wanted of rows of {c}");
        let (mut pos, mut finite, mut top) = (0, true, f32::NEG_INFINITY);
        while pos < c {
            let took = match &mut self.cur {
                Current::None => {
                    if !self.load_page()? {
                        return Err(unsupported(format!(
                            "values end in row {} of {}",
                            self.next, self.rows
                        )));
                    }
                    continue;
                }
                Current::Plain { page, at, end } => {
                    let take = (c - pos).min((*end - *at) / 4);
                    let b = &page.buffer()[*at..*at + take * 4];
                    // Values below `t` go to `into`, the rest are checked.
                    let (head, tail) = b.split_at(t.saturating_sub(pos).min(take) * 4);
                    finite &= into.put_le(pos, head, &mut top);
                    finite &= le_finite(tail);
                    *at += take * 4;
                    take
                }
                Current::Decoded { at } => {
                    let take = (c - pos).min(self.scratch.len() - *at);
                    let v = &self.scratch[*at..*at + take];
                    let (head, tail) = v.split_at(t.saturating_sub(pos).min(take));
                    finite &= into.put(pos, head, &mut top);
                    finite &= all_finite(tail);
                    *at += take;
                    take
                }
            };
            if took == 0 {
                self.cur = Current::None;
            }
            pos += took;
        }
        let r = self.next;
        self.next += 1;
        Ok(Some((r, finite, top)))
    }

    /// After the last row: no values left over.
    pub fn finish(&mut self) -> Result<(), Unsupported> {
        let left = match &self.cur {
            Current::None => 0,
            Current::Plain { at, end, .. } => end - at,
            Current::Decoded { at } => self.scratch.len() - at,
        };
        if self.next != self.rows || left != 0 || self.load_page()? {
            return Err(unsupported(format!(
                "values left after {} of {} rows",
                self.next, self.rows
            )));
        }
        Ok(())
    }

    /// Moves to the next data page with values (its levels checked).
    /// False at the end of the column.
    fn load_page(&mut self) -> Result<bool, Unsupported> {
        self.cur = Current::None;
        loop {
            let page = match self.source.fetch()? {
                Fetched::End => return Ok(false),
                Fetched::NewGroup => {
                    self.dict = None;
                    continue;
                }
                Fetched::Page(p) => p,
            };
            let lv = &self.levels;
            // Offsets of the values, and the levels checked.
            let (n, enc, at) = match &page {
                Page::DictionaryPage {
                    buf,
                    num_values,
                    encoding,
                    ..
                } => {
                    if !matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY) {
                        return Err(unsupported("dictionary encoding"));
                    }
                    let n = *num_values as usize;
                    let b = buf
                        .get(..n * 4)
                        .ok_or_else(|| unsupported("short dictionary page"))?;
                    let mut d = vec![0f32; n];
                    le_into(b, &mut d);
                    self.dict = Some(d);
                    continue;
                }
                Page::DataPage {
                    buf,
                    num_values,
                    encoding,
                    def_level_encoding,
                    rep_level_encoding,
                    ..
                } => {
                    // v1: each level run list prefixed by its 4-byte length.
                    let n = *num_values as usize;
                    let mut b: &[u8] = buf;
                    let rep = v1_levels(&mut b, *rep_level_encoding)?;
                    let def = if lv.max_def > 0 {
                        v1_levels(&mut b, *def_level_encoding)?
                    } else {
                        &[]
                    };
                    lv.check(rep, def, n)?;
                    (n, *encoding, buf.len() - b.len())
                }
                Page::DataPageV2 {
                    buf,
                    num_values,
                    encoding,
                    num_nulls,
                    def_levels_byte_len,
                    rep_levels_byte_len,
                    ..
                } => {
                    if *num_nulls != 0 {
                        return Err(unsupported("nulls"));
                    }
                    let n = *num_values as usize;
                    let (r, d) = (*rep_levels_byte_len as usize, *def_levels_byte_len as usize);
                    if buf.len() < r + d {
                        return Err(unsupported("short levels"));
                    }
                    lv.check(&buf[..r], &buf[r..r + d], n)?;
                    (n, *encoding, r + d)
                }
            };
            self.levels.seen += n;
            if n == 0 {
                continue;
            }
            match enc {
                Encoding::PLAIN => {
                    if page.buffer().len() < at + n * 4 {
                        return Err(unsupported("short PLAIN page"));
                    }
                    self.cur = Current::Plain {
                        page,
                        at,
                        end: at + n * 4,
                    };
                }
                Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY => {
                    let dict = self
                        .dict
                        .as_deref()
                        .ok_or_else(|| unsupported("dictionary page missing"))?;
                    let (&width, idx) = page.buffer()[at..]
                        .split_first()
                        .ok_or_else(|| unsupported("empty dictionary-encoded page"))?;
                    let scratch = &mut self.scratch;
                    scratch.clear();
                    scratch.reserve(n);
                    let width = u32::from(width);
                    let ok = runs(idx, width, n, |r| match r {
                        Run::Same { value, count, .. } => match dict.get(value as usize) {
                            Some(&x) => {
                                scratch.extend(std::iter::repeat_n(x, count));
                                true
                            }
                            None => false,
                        },
                        Run::Packed(p) if width == 0 => match dict.first() {
                            Some(&x) => {
                                scratch.extend(std::iter::repeat_n(x, p.count));
                                true
                            }
                            None => false,
                        },
                        Run::Packed(p) => p.each(width, |_, v| match dict.get(v as usize) {
                            Some(&x) => {
                                scratch.push(x);
                                true
                            }
                            None => false,
                        }),
                    });
                    if !ok {
                        return Err(unsupported("bad dictionary indices"));
                    }
                    self.cur = Current::Decoded { at: 0 };
                }
                other => return Err(unsupported(format!("encoding {other:?}"))),
            }
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hybrid_runs_and_bit_packed() {
        // RLE run of 5 x value 3 (width 2), then one bit-packed group of 8
        // values 0..8 (width 3).
        let mut data = vec![5 << 1, 3];
        let mut packed = 0u32;
        for k in 0..8u32 {
            packed |= k << (3 * k);
        }
        data.push(1 << 1 | 1);
        data.extend_from_slice(&packed.to_le_bytes()[..3]);
        let mut got = Vec::new();
        assert!(hybrid(&data[..2], 2, 5, |v, first, count| {
            got.push((v, first, count));
            true
        }));
        assert_eq!(got, vec![(3, 0, 5)]);
        got.clear();
        assert!(hybrid(&data[2..], 3, 8, |v, first, count| {
            got.push((v, first, count));
            true
        }));
        assert_eq!(got, (0..8).map(|k| (k, k as usize, 1)).collect::<Vec<_>>());
        assert!(!hybrid(&data[2..4], 3, 8, |_, _, _| true), "truncated");
    }

    /// Levels as one bit-packed run (width 1).
    fn packed_bits(levels: &[u8]) -> Vec<u8> {
        let groups = levels.len().div_ceil(8);
        let mut out = vec![(groups as u8) << 1 | 1];
        out.extend((0..groups).map(|g| {
            (0..8).fold(0u8, |b, k| {
                b | levels.get(8 * g + k).copied().unwrap_or(0) << k
            })
        }));
        out
    }

    #[test]
    fn bytewise_repetition_check_equals_the_per_level_one() {
        for c in [8usize, 9, 13, 37] {
            for seen in [0, 3, c - 1, 5 * c] {
                for n in [1usize, 7, 8, 9, 40, 77] {
                    let lv = Levels {
                        classes: c,
                        max_def: 0,
                        max_rep: 1,
                        seen,
                    };
                    let good: Vec<u8> = (0..n).map(|k| u8::from((seen + k) % c != 0)).collect();
                    assert!(
                        lv.check_rep(&packed_bits(&good), n),
                        "c {c} seen {seen} n {n}"
                    );
                    for flip in 0..n {
                        let mut bad = good.clone();
                        bad[flip] ^= 1;
                        assert!(
                            !lv.check_rep(&packed_bits(&bad), n),
                            "c {c} seen {seen} n {n} flip {flip}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bit_packed_runs_of_every_width() {
        for width in 1..=32u32 {
            let n = 8 * 5;
            let vals: Vec<u32> = (0..n as u64)
                .map(|k| ((k * 2_654_435_761) & ((1u64 << width) - 1)) as u32)
                .collect();
            // LSB first, `width` bits each.
            let mut bytes = vec![0u8; n * width as usize / 8];
            for (k, &v) in vals.iter().enumerate() {
                for b in 0..width as usize {
                    if v >> b & 1 == 1 {
                        let bit = k * width as usize + b;
                        bytes[bit / 8] |= 1 << (bit % 8);
                    }
                }
            }
            let mut data = vec![5 << 1 | 1];
            data.extend(bytes);
            let mut got = Vec::new();
            assert!(hybrid(&data, width, n - 3, |v, first, count| {
                got.push((v, first, count));
                true
            }));
            let want: Vec<(u32, usize, usize)> = vals
                .iter()
                .take(n - 3)
                .enumerate()
                .map(|(k, &v)| (v, k, 1))
                .collect();
            assert_eq!(got, want, "width {width}");
        }
    }

    #[test]
    fn repetition_levels_must_make_whole_rows() {
        let lv = Levels {
            classes: 3,
            max_def: 0,
            max_rep: 1,
            seen: 0,
        };
        // 0 1 1 0 1 1 as one bit-packed group (width 1): 0b00110110.
        assert!(lv.check_rep(&[1 << 1 | 1, 0b0011_0110], 6));
        // 0 1 0 ...: a row of 2.
        assert!(!lv.check_rep(&[1 << 1 | 1, 0b0011_0010], 6));
    }
}
