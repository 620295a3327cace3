//! Host-side TTA (docs/method.md section 8) for graphs without TTA inside: the
//! variants are the index maps the export stage puts in its graphs
//! ([`rcic_core::tta`]: crop, flips and PyTorch's nearest resize folded
//! into one row map and one column map, then an optional transpose),
//! applied to a batch of normalised images.

use rcic_core::tta::Variant;

/// Variant `v` of a batch `x` of `n` x `c` x `s` x `s` images (row-major).
pub fn apply(v: &Variant, x: &[f32], n: usize, c: usize, s: usize) -> Vec<f32> {
    let plane = s * s;
    debug_assert_eq!(x.len(), n * c * plane);
    let mut out = vec![0f32; x.len()];
    let (rows, cols) = (&v.rows, &v.cols);
    for (src, dst) in x.chunks_exact(plane).zip(out.chunks_exact_mut(plane)) {
        if v.transpose {
            // out[a][b] = G[b][a], G[i][j] = src[rows[i]][cols[j]].
            for (i, &r) in rows.iter().enumerate() {
                let srow = &src[r as usize * s..(r as usize + 1) * s];
                for (j, &cc) in cols.iter().enumerate() {
                    dst[j * s + i] = srow[cc as usize];
                }
            }
        } else {
            for (i, &r) in rows.iter().enumerate() {
                let srow = &src[r as usize * s..(r as usize + 1) * s];
                let drow = &mut dst[i * s..(i + 1) * s];
                for (d, &cc) in drow.iter_mut().zip(cols.iter()) {
                    *d = srow[cc as usize];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcic_core::tta::variants;

    #[test]
    fn identity_flip_and_transpose() {
        let s = 3;
        let x: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let v = variants(8, 1.0, s as i64, s as i64);
        assert_eq!(apply(&v[0], &x, 1, 1, s), x);
        assert_eq!(
            apply(&v[1], &x, 1, 1, s),
            [2., 1., 0., 5., 4., 3., 8., 7., 6.]
        );
        assert_eq!(
            apply(&v[4], &x, 1, 1, s),
            [0., 3., 6., 1., 4., 7., 2., 5., 8.]
        );
    }
}
