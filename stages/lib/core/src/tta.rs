//! The reference's test-time augmentation (docs/method.md section 8) as index
//! maps, shared by the export stage (TTA inside the graph) and the predict
//! stage (TTA on the host), so both apply exactly the same variants and
//! accept the same `--tta` counts: variant k crops round(r*H) x round(r*W)
//! at a grid offset, flips width if k&1, height if k&2, transposes if k&4,
//! and resizes back with PyTorch's nearest rule. Crop, flips and resize
//! together are one row map and one column map into the input (in a graph:
//! two Gathers, exactly, with no float coordinate arithmetic at run time),
//! followed by a transpose for the transposed variants.

use crate::error::{CoreError, Result};

/// The most variants `--tta` accepts, in the export stage (inside the
/// graph) and in the predict stage (on the host) alike: a grid of 8 x 8
/// crops, far beyond the reference's 8 symmetries, while a graph of N
/// variants holds N copies of the gathers and runs N times the batch.
pub const MAX_VARIANTS: usize = 64;

/// Checks a `--tta` value: 1 to [`MAX_VARIANTS`], or 0 where `zero_is_none`
/// (the export stage: no TTA inside the graph).
pub fn check_count(n: usize, zero_is_none: bool) -> Result<()> {
    if (1..=MAX_VARIANTS).contains(&n) || (zero_is_none && n == 0) {
        return Ok(());
    }
    Err(CoreError::Flag {
        flag: "--tta",
        message: if zero_is_none {
            format!("{n}: expected 0 (no TTA in the graph) or 1 to {MAX_VARIANTS} variants")
        } else {
            format!("{n}: expected 1 to {MAX_VARIANTS} variants")
        },
    })
}

/// Python's `round` (half to even) of a non-negative value.
pub fn py_round(v: f64) -> i64 {
    let f = v.floor();
    let d = v - f;
    let r = if d > 0.5 || (d == 0.5 && (f as i64) % 2 == 1) {
        f + 1.0
    } else {
        f
    };
    r as i64
}

/// PyTorch's nearest source index (upsample_nearest2d without scale factors).
pub fn nearest(i: i64, input: i64, output: i64) -> i64 {
    if input == output {
        i
    } else if output == 2 * input {
        i >> 1
    } else {
        let scale = input as f32 / output as f32;
        (((i as f32) * scale).floor() as i64).min(input - 1)
    }
}

/// One TTA variant as gathers into the [H, W] input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Source row of every output row (of the pre-transpose result).
    pub rows: Vec<i64>,
    /// Source column of every output column (of the pre-transpose result).
    pub cols: Vec<i64>,
    /// Transpose the last two axes after gathering.
    pub transpose: bool,
}

impl Variant {
    /// Whether the gather along rows (columns) is the identity and can be skipped.
    pub fn rows_identity(&self) -> bool {
        self.rows.iter().enumerate().all(|(i, &r)| r == i as i64)
    }

    pub fn cols_identity(&self) -> bool {
        self.cols.iter().enumerate().all(|(i, &c)| c == i as i64)
    }
}

/// The `n` variants for an `h` x `w` image with crop fraction `r` (0 < r <= 1).
pub fn variants(n: usize, r: f64, h: i64, w: i64) -> Vec<Variant> {
    let n1 = (n as f64).sqrt().ceil() as i64;
    let n2 = (n as f64 / n1 as f64).ceil() as i64;
    let (ch, cw) = (py_round(r * h as f64), py_round(r * w as f64));
    let mut out = Vec::with_capacity(n);
    for i in 0..n1 {
        for j in 0..n2 {
            let k = out.len();
            if k >= n {
                break;
            }
            let oh = i * (h - ch) / (n1 - 1).max(1);
            let ow = j * (w - cw) / (n2 - 1).max(1);
            let fh = |p: i64| if k & 2 != 0 { ch - 1 - p } else { p };
            let fw = |q: i64| if k & 1 != 0 { cw - 1 - q } else { q };
            let transpose = k & 4 != 0;
            // Without transpose: out[a][b] = x[oh + fh(nn(a, ch->H))][ow + fw(nn(b, cw->W))].
            // With transpose (the crop becomes cw x ch before the resize):
            // out[a][b] = G[b][a], G[i][j] = x[oh + fh(nn(i, ch->W))][ow + fw(nn(j, cw->H))].
            let (rows_out, cols_out) = if transpose { (w, h) } else { (h, w) };
            let rows = (0..rows_out)
                .map(|a| oh + fh(nearest(a, ch, rows_out)))
                .collect();
            let cols = (0..cols_out)
                .map(|b| ow + fw(nearest(b, cw, cols_out)))
                .collect();
            out.push(Variant {
                rows,
                cols,
                transpose,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_counts_are_bounded() {
        assert!(check_count(0, true).is_ok() && check_count(64, true).is_ok());
        assert_eq!(
            check_count(0, false).unwrap_err().to_string(),
            "--tta 0: expected 1 to 64 variants"
        );
        assert_eq!(
            check_count(65, true).unwrap_err().to_string(),
            "--tta 65: expected 0 (no TTA in the graph) or 1 to 64 variants"
        );
        assert!(check_count(100000, false).is_err());
    }

    #[test]
    fn python_rounding_and_torch_nearest() {
        assert_eq!(py_round(2.5), 2);
        assert_eq!(py_round(3.5), 4);
        assert_eq!(py_round(0.75 * 45.0), 34);
        assert_eq!(
            (0..4).map(|i| nearest(i, 2, 4)).collect::<Vec<_>>(),
            [0, 0, 1, 1]
        );
        assert_eq!(
            (0..4).map(|i| nearest(i, 3, 4)).collect::<Vec<_>>(),
            [0, 0, 1, 2]
        );
    }

    #[test]
    fn eight_full_size_variants_are_the_square_symmetries() {
        let v = variants(8, 1.0, 4, 4);
        assert_eq!(v.len(), 8);
        assert!(v[0].rows_identity() && v[0].cols_identity() && !v[0].transpose);
        assert_eq!(v[1].cols, [3, 2, 1, 0]);
        assert!(v[1].rows_identity());
        assert_eq!(v[2].rows, [3, 2, 1, 0]);
        assert!(v[4].transpose && v[4].rows_identity());
        // n = 5: n1 = 3, n2 = 2 -> grid rows 0..2, columns 0..1, stopping at 5.
        let v = variants(5, 0.5, 8, 8);
        assert_eq!(v.len(), 5);
        assert_eq!(v[0].rows[0], 0);
        assert_eq!(v[2].rows[7], 2); // i = 1: offset 1 * (8 - 4) / 2, flipped height
        assert_eq!(v[1].cols[7], 4); // j = 1, flipped width: offset 4 + (4 - 1 - 3)
    }
}
