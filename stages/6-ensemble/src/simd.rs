//! The float32 row kernels of the ensemble's hot loops (per-site checks,
//! sums, argmax over 1,108-class rows), written with SSE2 intrinsics on
//! x86_64 (part of its baseline), so they run four lanes wide whatever the
//! optimisation level of this crate: the dev profile builds it at opt-level
//! 1 with debug assertions, which neither vectorises loops nor removes the
//! checks of `ptr::add` and unaligned loads. The lanes therefore come from
//! fixed-size chunks ([`slice::as_chunks`]) moved in and out of vector
//! registers by value, which needs no pointer arithmetic at all.
//!
//! Each kernel gives exactly the result of the plain scalar loop it replaces
//! (also the fallback on other targets): lane-wise IEEE additions and
//! products are the same operations, and [`argmax`] returns the first
//! maximum as the sequential `>` scan does.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

#[cfg(target_arch = "x86_64")]
mod lanes {
    use std::arch::x86_64::*;

    /// Eight floats as two vectors.
    #[inline(always)]
    pub fn load8(x: &[f32; 8]) -> [__m128; 2] {
        // SAFETY: 32 bytes to 32 bytes; every bit pattern is valid for both.
        unsafe { std::mem::transmute::<[f32; 8], [__m128; 2]>(*x) }
    }

    #[inline(always)]
    pub fn store8(v: [__m128; 2]) -> [f32; 8] {
        // SAFETY: as in `load8`.
        unsafe { std::mem::transmute::<[__m128; 2], [f32; 8]>(v) }
    }

    /// The largest of four lanes and `top`, NaN lanes ignored.
    #[inline(always)]
    pub fn max4(m: __m128, mut top: f32) -> f32 {
        // SAFETY: 16 bytes to 16 bytes.
        let l = unsafe { std::mem::transmute::<__m128, [f32; 4]>(m) };
        for v in l {
            if v > top {
                top = v;
            }
        }
        top
    }
}

/// `dst[i] += src[i]`, returning the largest result (NaNs ignored; minus
/// infinity if none), for [`argmax_given_max`].
pub fn add_into_max(dst: &mut [f32], src: &[f32]) -> f32 {
    assert_eq!(dst.len(), src.len());
    let mut top = f32::NEG_INFINITY;
    #[cfg(target_arch = "x86_64")]
    let (dst, src) = {
        let (d8, dt) = dst.as_chunks_mut::<8>();
        let (s8, st) = src.as_chunks::<8>();
        // SAFETY: SSE is part of the x86_64 baseline.
        unsafe {
            let mut m = [_mm_set1_ps(f32::NEG_INFINITY); 2];
            for (d, s) in d8.iter_mut().zip(s8) {
                let ([a0, a1], [b0, b1]) = (lanes::load8(d), lanes::load8(s));
                let (x0, x1) = (_mm_add_ps(a0, b0), _mm_add_ps(a1, b1));
                *d = lanes::store8([x0, x1]);
                // maxps returns its second operand when either is NaN: the
                // running maxima (never NaN) go second.
                m = [_mm_max_ps(x0, m[0]), _mm_max_ps(x1, m[1])];
            }
            top = lanes::max4(_mm_max_ps(m[0], m[1]), top);
        }
        (dt, st)
    };
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
        if *d > top {
            top = *d;
        }
    }
    top
}

/// `dst` = `src`, returning the largest value as [`add_into_max`] does.
pub fn copy_max(dst: &mut [f32], src: &[f32]) -> f32 {
    dst.copy_from_slice(src);
    max_ignoring_nan(dst)
}

/// `x[i] *= w`, returning the largest result as [`add_into_max`] does.
pub fn scale_max(x: &mut [f32], w: f32) -> f32 {
    let mut top = f32::NEG_INFINITY;
    #[cfg(target_arch = "x86_64")]
    let x = {
        let (x8, xt) = x.as_chunks_mut::<8>();
        // SAFETY: SSE is part of the x86_64 baseline.
        unsafe {
            let ww = _mm_set1_ps(w);
            let mut m = [_mm_set1_ps(f32::NEG_INFINITY); 2];
            for c in x8.iter_mut() {
                let [a0, a1] = lanes::load8(c);
                let (x0, x1) = (_mm_mul_ps(a0, ww), _mm_mul_ps(a1, ww));
                *c = lanes::store8([x0, x1]);
                m = [_mm_max_ps(x0, m[0]), _mm_max_ps(x1, m[1])];
            }
            top = lanes::max4(_mm_max_ps(m[0], m[1]), top);
        }
        xt
    };
    for v in x.iter_mut() {
        *v *= w;
        if *v > top {
            top = *v;
        }
    }
    top
}

/// Little-endian float32 bytes into `dst` (`src.len() == 4 * dst.len()`),
/// returning whether every value is finite: the copy and the check in one
/// pass.
pub fn copy_le_finite(src: &[u8], dst: &mut [f32]) -> bool {
    assert_eq!(src.len(), dst.len() * 4);
    let mut ok = true;
    #[cfg(all(target_arch = "x86_64", target_endian = "little"))]
    let (src, dst) = {
        let (s8, st) = src.as_chunks::<32>();
        let (d8, dt) = dst.as_chunks_mut::<8>();
        // SAFETY: SSE2 is part of the x86_64 baseline; 32 bytes to two
        // vectors, every bit pattern valid.
        unsafe {
            let exp = _mm_set1_epi32(0x7f80_0000);
            let mut bad = _mm_setzero_si128();
            for (d, s) in d8.iter_mut().zip(s8) {
                let [a0, a1] = std::mem::transmute::<[u8; 32], [__m128; 2]>(*s);
                *d = lanes::store8([a0, a1]);
                let e0 = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(a0), exp), exp);
                let e1 = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(a1), exp), exp);
                bad = _mm_or_si128(bad, _mm_or_si128(e0, e1));
            }
            ok &= _mm_movemask_epi8(bad) == 0;
        }
        (st, dt)
    };
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(4)) {
        *d = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        ok &= d.is_finite();
    }
    ok
}

/// `dst[i] += ` the little-endian float32 `src[i]`, returning the largest
/// result (as [`add_into_max`]) and whether every value of `src` is
/// finite: decode, check, add and maximum in one pass.
pub fn add_le_max_finite(src: &[u8], dst: &mut [f32]) -> (f32, bool) {
    assert_eq!(src.len(), dst.len() * 4);
    let (mut top, mut ok) = (f32::NEG_INFINITY, true);
    #[cfg(all(target_arch = "x86_64", target_endian = "little"))]
    let (src, dst) = {
        let (s8, st) = src.as_chunks::<32>();
        let (d8, dt) = dst.as_chunks_mut::<8>();
        // SAFETY: SSE2 is part of the x86_64 baseline; 32 bytes to two
        // vectors, every bit pattern valid.
        unsafe {
            let exp = _mm_set1_epi32(0x7f80_0000);
            let mut bad = _mm_setzero_si128();
            let mut m = [_mm_set1_ps(f32::NEG_INFINITY); 2];
            for (d, s) in d8.iter_mut().zip(s8) {
                let [b0, b1] = std::mem::transmute::<[u8; 32], [__m128; 2]>(*s);
                let [a0, a1] = lanes::load8(d);
                let (x0, x1) = (_mm_add_ps(a0, b0), _mm_add_ps(a1, b1));
                *d = lanes::store8([x0, x1]);
                m = [_mm_max_ps(x0, m[0]), _mm_max_ps(x1, m[1])];
                let e0 = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(b0), exp), exp);
                let e1 = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(b1), exp), exp);
                bad = _mm_or_si128(bad, _mm_or_si128(e0, e1));
            }
            top = lanes::max4(_mm_max_ps(m[0], m[1]), top);
            ok &= _mm_movemask_epi8(bad) == 0;
        }
        (st, dt)
    };
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(4)) {
        let x = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        ok &= x.is_finite();
        *d += x;
        if *d > top {
            top = *d;
        }
    }
    (top, ok)
}

/// Whether every little-endian float32 of `src` is finite.
pub fn le_finite(src: &[u8]) -> bool {
    #[allow(unused_mut)]
    let mut ok = true;
    #[cfg(all(target_arch = "x86_64", target_endian = "little"))]
    let src = {
        let (s8, st) = src.as_chunks::<32>();
        // SAFETY: SSE2 is part of the x86_64 baseline; 32 bytes to two
        // vectors.
        unsafe {
            let exp = _mm_set1_epi32(0x7f80_0000);
            let mut bad = _mm_setzero_si128();
            for s in s8 {
                let [b0, b1] = std::mem::transmute::<[u8; 32], [__m128i; 2]>(*s);
                let e0 = _mm_cmpeq_epi32(_mm_and_si128(b0, exp), exp);
                let e1 = _mm_cmpeq_epi32(_mm_and_si128(b1, exp), exp);
                bad = _mm_or_si128(bad, _mm_or_si128(e0, e1));
            }
            ok &= _mm_movemask_epi8(bad) == 0;
        }
        st
    };
    ok && src
        .chunks_exact(4)
        .all(|s| f32::from_le_bytes([s[0], s[1], s[2], s[3]]).is_finite())
}

/// Whether every value is finite.
pub fn all_finite(x: &[f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    let x = {
        let (x8, xt) = x.as_chunks::<8>();
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe {
            // Non-finite iff the exponent bits are all ones.
            let exp = _mm_set1_epi32(0x7f80_0000);
            let mut bad = _mm_setzero_si128();
            for (k, c) in x8.iter().enumerate() {
                let [a0, a1] = lanes::load8(c);
                let e0 = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(a0), exp), exp);
                let e1 = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(a1), exp), exp);
                bad = _mm_or_si128(bad, _mm_or_si128(e0, e1));
                if k % 16 == 15 && _mm_movemask_epi8(bad) != 0 {
                    return false;
                }
            }
            if _mm_movemask_epi8(bad) != 0 {
                return false;
            }
        }
        xt
    };
    x.iter().all(|v| v.is_finite())
}

/// Index of the first maximum (0 for an empty row): what the scan
/// `if x[i] > x[best] { best = i }` from `best = 0` returns, NaN included
/// (a NaN never wins; a NaN first value stays).
pub fn argmax(x: &[f32]) -> usize {
    argmax_given_max(x, max_ignoring_nan(x))
}

/// [`argmax`] of `x` given `top`, its largest non-NaN value (minus
/// infinity if none), as [`add_into_max`], [`copy_max`] and [`scale_max`]
/// return it. Every value is NaN or at most `top`; the scan keeps the first
/// value equal to its running maximum and skips NaNs, so it ends on the
/// first value equal to `top`, unless the first value is NaN.
pub fn argmax_given_max(x: &[f32], top: f32) -> usize {
    match x.first() {
        None => 0,
        Some(v) if v.is_nan() => 0,
        _ => first_equal(x, top).unwrap_or(0),
    }
}

/// Index of the first value equal to `v`.
fn first_equal(x: &[f32], v: f32) -> Option<usize> {
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    {
        let (x8, _) = x.as_chunks::<8>();
        // SAFETY: SSE is part of the x86_64 baseline.
        unsafe {
            let vv = _mm_set1_ps(v);
            for c in x8 {
                let [a0, a1] = lanes::load8(c);
                let mask = _mm_movemask_ps(_mm_cmpeq_ps(a0, vv))
                    | _mm_movemask_ps(_mm_cmpeq_ps(a1, vv)) << 4;
                if mask != 0 {
                    return Some(done + mask.trailing_zeros() as usize);
                }
                done += 8;
            }
        }
    }
    x[done..].iter().position(|&y| y == v).map(|i| done + i)
}

/// The largest non-NaN value (minus infinity if none).
fn max_ignoring_nan(x: &[f32]) -> f32 {
    let mut top = f32::NEG_INFINITY;
    #[cfg(target_arch = "x86_64")]
    let x = {
        let (x8, xt) = x.as_chunks::<8>();
        // SAFETY: SSE is part of the x86_64 baseline.
        unsafe {
            let mut m = [_mm_set1_ps(f32::NEG_INFINITY); 2];
            for c in x8 {
                let [a0, a1] = lanes::load8(c);
                m = [_mm_max_ps(a0, m[0]), _mm_max_ps(a1, m[1])];
            }
            top = lanes::max4(_mm_max_ps(m[0], m[1]), top);
        }
        xt
    };
    for &v in x {
        if v > top {
            top = v;
        }
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_argmax(x: &[f32]) -> usize {
        let mut best = 0;
        for (i, &v) in x.iter().enumerate() {
            if v > x[best] {
                best = i;
            }
        }
        best
    }

    fn bits(x: &[f32]) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
    }

    #[test]
    fn kernels_equal_the_scalar_loops() {
        let mut rng = Lcg(3);
        let specials = [
            0.0f32,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
            f32::MIN,
            1.0,
        ];
        for case in 0..4000 {
            let n = case % 300;
            let x: Vec<f32> = (0..n)
                .map(|_| match rng.next() % 10 {
                    0 if case % 3 == 0 => specials[(rng.next() % 8) as usize],
                    // Few distinct values: many ties.
                    0..=4 => (rng.next() % 4) as f32 - 2.0,
                    _ => {
                        let sign = if rng.next() % 2 == 0 { 1.0 } else { -1.0 };
                        f32::from_bits(rng.next() % 0x7f00_0000) * sign
                    }
                })
                .collect();
            let y: Vec<f32> = x.iter().rev().copied().collect();
            assert_eq!(argmax(&x), scalar_argmax(&x), "{x:?}");
            assert_eq!(all_finite(&x), x.iter().all(|v| v.is_finite()), "{x:?}");

            let sum: Vec<f32> = x.iter().zip(&y).map(|(p, q)| p + q).collect();
            let mut c = x.clone();
            let top = add_into_max(&mut c, &y);
            assert_eq!(bits(&c), bits(&sum));
            assert_eq!(argmax_given_max(&c, top), scalar_argmax(&sum), "{sum:?}");

            let prod: Vec<f32> = x.iter().map(|p| p * -1.5).collect();
            let mut c = x.clone();
            let top = scale_max(&mut c, -1.5);
            assert_eq!(bits(&c), bits(&prod));
            assert_eq!(argmax_given_max(&c, top), scalar_argmax(&prod), "{prod:?}");

            let top = copy_max(&mut c, &x);
            assert_eq!(bits(&c), bits(&x));
            assert_eq!(argmax_given_max(&c, top), scalar_argmax(&x), "{x:?}");

            let le: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
            let finite = x.iter().all(|v| v.is_finite());
            let mut c = vec![0f32; n];
            let ok = copy_le_finite(&le, &mut c);
            assert_eq!(bits(&c), bits(&x));
            assert_eq!(ok, finite, "{x:?}");
            assert_eq!(le_finite(&le), finite, "{x:?}");
            let mut c = y.clone();
            let (top, ok) = add_le_max_finite(&le, &mut c);
            let sum: Vec<f32> = y.iter().zip(&x).map(|(p, q)| p + q).collect();
            assert_eq!(bits(&c), bits(&sum));
            assert_eq!(ok, finite);
            assert_eq!(argmax_given_max(&c, top), scalar_argmax(&sum), "{sum:?}");
        }
    }
}
