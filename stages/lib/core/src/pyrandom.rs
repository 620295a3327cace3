//! Python's `random.Random` (MT19937 seeded by `init_by_array`, `shuffle`
//! through `_randbelow`), reproduced bit for bit so that the validation folds
//! drawn from `--data-split-seed` are the reference's folds on RxRx1.
//! No crate serves: none reproduces CPython's seeding, `_randbelow` and `shuffle` bit for bit.

/// A Mersenne Twister in the state CPython's `random.Random(seed)` puts it.
pub struct PyRandom {
    mt: [u32; 624],
    index: usize,
}

impl PyRandom {
    /// Equivalent of `random.Random(seed)` for an integer seed.
    pub fn new(seed: u64) -> Self {
        // CPython splits abs(seed) into 32-bit words, least significant first.
        let mut key = Vec::new();
        let mut s = seed;
        loop {
            key.push(s as u32);
            s >>= 32;
            if s == 0 {
                break;
            }
        }
        let mut r = Self {
            mt: [0; 624],
            index: 624,
        };
        r.init_by_array(&key);
        r
    }

    fn init_genrand(&mut self, s: u32) {
        self.mt[0] = s;
        for i in 1..624 {
            let prev = self.mt[i - 1];
            self.mt[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = 624;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let n = 624usize;
        let (mut i, mut j) = (1usize, 0usize);
        let mut k = n.max(key.len());
        while k > 0 {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= n {
                self.mt[0] = self.mt[n - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
            k -= 1;
        }
        k = n - 1;
        while k > 0 {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= n {
                self.mt[0] = self.mt[n - 1];
                i = 1;
            }
            k -= 1;
        }
        self.mt[0] = 0x8000_0000;
        self.index = 624;
    }

    fn twist(&mut self) {
        for i in 0..624 {
            let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % 624] & 0x7fff_ffff);
            let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= 0x9908_b0df;
            }
            self.mt[i] = v;
        }
        self.index = 0;
    }

    /// `genrand_uint32`: the next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `getrandbits(k)` for 1 <= k <= 32.
    fn getrandbits(&mut self, k: u32) -> u32 {
        debug_assert!((1..=32).contains(&k));
        self.next_u32() >> (32 - k)
    }

    /// `_randbelow(n)`: uniform in [0, n) by rejection, as CPython does it.
    pub fn randbelow(&mut self, n: u32) -> u32 {
        assert!(n > 0, "randbelow(0)");
        let k = 32 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `random.shuffle(x)` (Fisher-Yates from the end).
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.randbelow(i as u32 + 1) as usize;
            x.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers printed by CPython 3.11: random.Random(s).getrandbits(32)
    // and random.Random(s).shuffle(list(range(n))).
    #[test]
    fn matches_cpython_bits() {
        let mut r = PyRandom::new(0);
        assert_eq!(
            [r.next_u32(), r.next_u32(), r.next_u32()],
            [3626764237, 1654615998, 3255389356]
        );
        let mut r = PyRandom::new(12345);
        assert_eq!(
            [r.next_u32(), r.next_u32(), r.next_u32()],
            [1789368711, 3146859322, 43676229]
        );
    }

    #[test]
    fn matches_cpython_shuffle() {
        let cases: [(u64, &[usize]); 4] = [
            (0, &[7, 8, 1, 5, 3, 4, 2, 0, 9, 6]),
            (1, &[6, 8, 9, 7, 5, 3, 0, 4, 1, 2]),
            (
                0,
                &[2, 14, 3, 16, 10, 1, 9, 5, 11, 15, 6, 7, 8, 4, 0, 13, 12],
            ),
            (
                12345,
                &[10, 8, 7, 9, 15, 2, 1, 6, 11, 3, 5, 4, 12, 14, 16, 0, 13],
            ),
        ];
        for (seed, want) in cases {
            let mut v: Vec<usize> = (0..want.len()).collect();
            PyRandom::new(seed).shuffle(&mut v);
            assert_eq!(v, want, "seed {seed}, n {}", want.len());
        }
    }
}
