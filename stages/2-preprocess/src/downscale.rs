//! `--image-size S`: area downscale of a square 8-bit channel by an integer
//! factor f = source / S. Every output pixel is the mean of its f x f block,
//! rounded half up: `(sum + f*f/2) / (f*f)` in integer arithmetic (so a block
//! mean of 2.5 gives 3, 2.25 gives 2).

/// Downscales `src` (`size` x `size`) by `factor` into `dst`
/// (`size/factor` squared). `factor` 1 copies.
pub fn area_downscale(src: &[u8], size: usize, factor: usize, dst: &mut [u8]) {
    debug_assert!(factor >= 1 && size.is_multiple_of(factor));
    let out = size / factor;
    debug_assert_eq!(src.len(), size * size);
    debug_assert_eq!(dst.len(), out * out);
    if factor == 1 {
        dst.copy_from_slice(src);
        return;
    }
    let area = (factor * factor) as u32;
    let mut acc = vec![0u32; out];
    for oy in 0..out {
        acc.iter_mut().for_each(|a| *a = 0);
        for dy in 0..factor {
            let line = &src[(oy * factor + dy) * size..(oy * factor + dy + 1) * size];
            for (ox, a) in acc.iter_mut().enumerate() {
                *a += line[ox * factor..(ox + 1) * factor]
                    .iter()
                    .map(|&v| v as u32)
                    .sum::<u32>();
            }
        }
        for (ox, a) in acc.iter().enumerate() {
            dst[oy * out + ox] = ((a + area / 2) / area) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_means_round_half_up() {
        // 4x4 -> 2x2: blocks {0,1,2,3}=1.5->2, {4,4,5,5}=4.5->5, {10,10,10,11}=10.25->10, {255 x4}=255.
        #[rustfmt::skip]
        let src = [
            0, 1, 4, 4,
            2, 3, 5, 5,
            10, 10, 255, 255,
            10, 11, 255, 255,
        ];
        let mut dst = [0u8; 4];
        area_downscale(&src, 4, 2, &mut dst);
        assert_eq!(dst, [2, 5, 10, 255]);
        let mut same = [0u8; 16];
        area_downscale(&src, 4, 1, &mut same);
        assert_eq!(same, src);
    }
}
