//! One download into the cache: the body streams into a temporary file
//! beside the target while its SHA-256 is computed, and the file is renamed
//! into place only when the hash begins with the one in the file name, so a
//! cut or damaged download never looks like weights (torch.hub checks the
//! same hash after its downloads).

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rcic_cli::log::Log;
use sha2::{Digest, Sha256};

/// Downloads `url` to `target`, checking the hash prefix `expected`.
pub fn fetch(url: &str, target: &Path, expected: &str, timeout: u64, log: &Log) -> Result<()> {
    let dir = target.parent().context("the target has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(timeout)))
        .timeout_recv_response(Some(Duration::from_secs(timeout)))
        .build()
        .into();
    log.info(format!("downloading {url} to {}", target.display()));
    let response = agent
        .get(url)
        .call()
        .with_context(|| format!("{url}: cannot download"))?;
    let total: Option<u64> = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut body = response
        .into_body()
        .into_with_config()
        .limit(u64::MAX)
        .reader();
    let mut tmp = rcic_cli::publish::AtomicFile::create(target)?;
    let (bytes, digest) = copy_hashing(&mut body, tmp.file(), total, log)
        .with_context(|| format!("{url}: download cut off"))?;
    let actual = rcic_pretrained::verify::hex(&digest);
    if !actual.starts_with(expected) {
        bail!(
            "{url}: the {bytes} bytes downloaded have SHA-256 {actual}, which does not begin with {expected}, the hash in the file name; nothing was kept"
        );
    }
    tmp.commit()?;
    log.info(format!(
        "{}: {bytes} bytes, SHA-256 verified",
        target.display()
    ));
    Ok(())
}

/// Copies `from` into `to`, hashing; progress every few seconds.
fn copy_hashing(
    from: &mut impl Read,
    to: &mut impl Write,
    total: Option<u64>,
    log: &Log,
) -> std::io::Result<(u64, Vec<u8>)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let (mut n, start) = (0u64, Instant::now());
    let mut shown = start;
    loop {
        let k = from.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        to.write_all(&buf[..k])?;
        n += k as u64;
        if shown.elapsed() >= Duration::from_secs(5) {
            shown = Instant::now();
            let of = total.map_or(String::new(), |t| format!(" of {:.1}", t as f64 / 1e6));
            log.info(format!(
                "{:.1}{of} MB, {:.1} MB/s",
                n as f64 / 1e6,
                n as f64 / 1e6 / start.elapsed().as_secs_f64()
            ));
        }
    }
    to.flush()?;
    Ok((n, h.finalize().to_vec()))
}
