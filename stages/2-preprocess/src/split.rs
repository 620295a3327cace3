//! Where the packing pass spends its time: thread-seconds per part (file
//! reads, PNG decoding, statistics, Parquet encoding with zstd, the writer
//! threads' appends and hashing), summed over the threads. A run logs it with `-v`, and
//! the benchmark prints it, so a speed-up can be aimed at the largest share
//! and checked there.

use std::time::Instant;

/// Thread-seconds of each part of the packing pass.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Split {
    /// Reading the PNG files into memory.
    pub read: f64,
    /// PNG decoding (inflate, unfiltering) and the optional downscale.
    pub decode: f64,
    /// Per-site and per-plate sums.
    pub stats: f64,
    /// Arrow arrays, Parquet encoding and zstd compression of row groups.
    pub encode: f64,
    /// Appending compressed row groups to the files and hashing them (the writing threads).
    pub write: f64,
}

impl Split {
    pub fn add(&mut self, o: &Split) {
        self.read += o.read;
        self.decode += o.decode;
        self.stats += o.stats;
        self.encode += o.encode;
        self.write += o.write;
    }

    pub fn total(&self) -> f64 {
        self.read + self.decode + self.stats + self.encode + self.write
    }

    /// One log line: each part's thread-seconds and share of the total.
    pub fn describe(&self) -> String {
        let t = self.total().max(1e-12);
        let part = |name: &str, s: f64| format!("{name} {s:.3} s ({:.0}%)", 100.0 * s / t);
        format!(
            "time split (thread-seconds): {}, {}, {}, {}, {}; total {:.3} s",
            part("read", self.read),
            part("decode", self.decode),
            part("statistics", self.stats),
            part("encode+zstd", self.encode),
            part("write", self.write),
            self.total()
        )
    }
}

/// Runs `f`, adding its duration in seconds to `acc`.
pub fn timed<T>(acc: &mut f64, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    *acc += t.elapsed().as_secs_f64();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_describes() {
        let mut a = Split {
            read: 1.0,
            decode: 2.0,
            ..Split::default()
        };
        a.add(&Split {
            write: 1.0,
            ..Split::default()
        });
        assert_eq!(a.total(), 4.0);
        let line = a.describe();
        assert!(line.contains("decode 2.000 s (50%)"), "{line}");
        let mut acc = 0.0;
        assert_eq!(timed(&mut acc, || 7), 7);
        assert!(acc >= 0.0);
    }
}
