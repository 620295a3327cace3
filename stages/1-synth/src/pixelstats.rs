//! Per-image statistics in RxRx1's pixel_stats.csv form (mean, std, median,
//! min, max of the 8-bit pixel values), computed from exactly the bytes
//! written to the PNGs.

/// Statistics of one 8-bit image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageStats {
    pub mean: f64,
    /// Population standard deviation (divisor N, numpy's default).
    pub std: f64,
    /// Median as numpy computes it (mean of the two middle values when N is even).
    pub median: f64,
    pub min: u8,
    pub max: u8,
}

impl ImageStats {
    pub fn of(pixels: &[u8]) -> ImageStats {
        let mut hist = [0u64; 256];
        for &p in pixels {
            hist[p as usize] += 1;
        }
        let n = pixels.len() as u64;
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        for (v, &h) in hist.iter().enumerate() {
            s += v as f64 * h as f64;
            s2 += (v * v) as f64 * h as f64;
        }
        let nf = n.max(1) as f64;
        let mean = s / nf;
        let std = (s2 / nf - mean * mean).max(0.0).sqrt();
        // k-th smallest value (0-based).
        let kth = |k: u64| -> u8 {
            let mut acc = 0;
            for (v, &h) in hist.iter().enumerate() {
                acc += h;
                if acc > k {
                    return v as u8;
                }
            }
            255
        };
        let median = if n == 0 {
            0.0
        } else if n % 2 == 1 {
            kth(n / 2) as f64
        } else {
            (kth(n / 2 - 1) as f64 + kth(n / 2) as f64) / 2.0
        };
        let min = hist.iter().position(|&h| h > 0).unwrap_or(0) as u8;
        let max = hist.iter().rposition(|&h| h > 0).unwrap_or(0) as u8;
        ImageStats {
            mean,
            std,
            median,
            min,
            max,
        }
    }
}

/// A float rounded to 6 decimals, printed without trailing zeros.
pub fn fmt_float(v: f64) -> String {
    let r = (v * 1e6).round() / 1e6;
    format!("{}", r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_match_numpy_conventions() {
        let s = ImageStats::of(&[1, 2, 3, 10]);
        assert_eq!(s.mean, 4.0);
        assert!((s.std - (((9 + 4 + 1 + 36) as f64) / 4.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.median, 2.5);
        assert_eq!((s.min, s.max), (1, 10));
        assert_eq!(ImageStats::of(&[5, 0, 9]).median, 5.0);
        assert_eq!(fmt_float(2.0), "2");
        assert_eq!(fmt_float(1.0 / 3.0), "0.333333");
    }
}
