//! Hashing while writing: a [`Write`] adapter that feeds every byte it
//! passes on to blake3 and counts them, so a stage that streams a large
//! output file (the preprocess stage's site tensors, about 600 MB per plate
//! at 512 px) can hand the artifact store the file's size and hash when it
//! closes it, instead of the store reading the whole file back to seal it
//! ([`crate::ArtifactWriter::record_hash`]).

use std::io::{self, Write};

/// Passes writes to `inner` and hashes exactly the bytes `inner` accepted.
pub struct HashingWriter<W> {
    inner: W,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: blake3::Hasher::new(),
            bytes: 0,
        }
    }

    /// Flushes and returns the inner writer, the byte count and the blake3
    /// hex of everything written (the form of the store's manifest).
    pub fn finish(mut self) -> io::Result<(W, u64, String)> {
        self.inner.flush()?;
        Ok((
            self.inner,
            self.bytes,
            self.hasher.finalize().to_hex().to_string(),
        ))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts at most 3 bytes per call, so the adapter must hash only what was taken.
    struct Short(Vec<u8>);
    impl Write for Short {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(3);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn hash_and_size_equal_the_written_bytes() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut w = HashingWriter::new(Short(Vec::new()));
        w.write_all(&data[..5000]).unwrap();
        w.write_all(&data[5000..]).unwrap();
        let (inner, n, hex) = w.finish().unwrap();
        assert_eq!(inner.0, data);
        assert_eq!(n, data.len() as u64);
        assert_eq!(hex, blake3::hash(&data).to_hex().to_string());
    }
}
