//! Cheap deterministic 2-D value noise: the texture inside nuclei
//! (chromatin), the ER's reticular network and the beading of stress fibres.

#[derive(Debug, Clone, Copy)]
pub struct Noise {
    seed: u32,
}

#[inline]
fn hash(x: i32, y: i32, seed: u32) -> f32 {
    let mut h = (x as u32).wrapping_mul(0x8da6_b343)
        ^ (y as u32).wrapping_mul(0xd816_3841)
        ^ seed.wrapping_mul(0xcb1a_b31f);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2c1b_3c6d);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297a_2d39);
    h ^= h >> 15;
    (h >> 8) as f32 * (2.0 / 16_777_216.0) - 1.0
}

#[inline]
fn fade(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

impl Noise {
    pub fn new(seed: u32) -> Self {
        Noise { seed }
    }

    /// Smooth noise in [-1, 1] with features about one unit apart.
    #[inline]
    pub fn value(&self, x: f32, y: f32) -> f32 {
        let xf = x.floor();
        let yf = y.floor();
        let (xi, yi) = (xf as i32, yf as i32);
        let (tx, ty) = (fade(x - xf), fade(y - yf));
        let a = hash(xi, yi, self.seed);
        let b = hash(xi + 1, yi, self.seed);
        let c = hash(xi, yi + 1, self.seed);
        let d = hash(xi + 1, yi + 1, self.seed);
        let top = a + (b - a) * tx;
        let bottom = c + (d - c) * tx;
        top + (bottom - top) * ty
    }

    /// A network of thin bright ridges in [-1, 1] (ER-like).
    #[inline]
    pub fn ridge(&self, x: f32, y: f32) -> f32 {
        let v = 1.0 - self.value(x, y).abs();
        2.0 * v * v * v - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_bounded_deterministic_and_seeded() {
        let n = Noise::new(5);
        let mut sum = 0.0;
        for i in 0..1000 {
            let (x, y) = (i as f32 * 0.37, i as f32 * 0.11);
            let v = n.value(x, y);
            assert!((-1.0..=1.0).contains(&v));
            assert!((-1.0..=1.0).contains(&n.ridge(x, y)));
            assert_eq!(v, Noise::new(5).value(x, y));
            sum += v;
        }
        assert!((sum / 1000.0f32).abs() < 0.2);
        assert_ne!(n.value(0.5, 0.5), Noise::new(6).value(0.5, 0.5));
    }
}
