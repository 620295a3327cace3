//! `rcic-weights`: places torchvision's ImageNet weights of a backbone in
//! the weights cache (rcic-pretrained's `cache`), so that `rcic-train
//! --pretrained imagenet` finds them. A copy already there (or in
//! torch.hub's cache) is verified and reused; otherwise the file is
//! downloaded from the address torchvision publishes it at, hashed as it
//! arrives, and published only when its SHA-256 matches the hash in its
//! name. Prints the file's path. `--train-config -` reads the [train]
//! section `rcic-train --print-config` prints (what `make weights` does), so
//! the preset, TRAIN_FLAGS and PRETRAINED decide as they do for training.

mod download;

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rcic_cli::log::Log;
use rcic_pretrained::{source, CacheDirs, PretrainedError};

#[derive(Parser)]
#[command(
    name = "rcic-weights",
    about = "Fetch torchvision's ImageNet weights of a backbone into the weights cache"
)]
struct Args {
    /// The backbone (as rcic-train's --backbone).
    #[arg(
        long,
        conflicts_with = "train_config",
        required_unless_present = "train_config"
    )]
    backbone: Option<String>,
    /// A [train] section as `rcic-train --print-config` prints it (`-`:
    /// standard input): its backbone, and whether --pretrained asks for
    /// the ImageNet weights (`imagenet`) or names a file (checked).
    #[arg(long)]
    train_config: Option<PathBuf>,
    /// The folder the file goes to [default: RCIC_WEIGHTS_DIR, else
    /// ~/.cache/rcic/weights]; torch.hub's cache is searched too.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Download from this address instead of torchvision's (a mirror);
    /// the file name must still carry the hash.
    #[arg(long)]
    url: Option<String>,
    /// Seconds without data before a download gives up.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    #[command(flatten)]
    log: rcic_cli::args::LogArgs,
}

fn main() {
    rcic_cli::report::main(run);
}

/// What the training configuration asks for.
enum Wanted {
    Nothing,
    ImageNet(String),
    File(PathBuf, String),
}

fn wanted(a: &Args) -> Result<Wanted> {
    let Some(path) = &a.train_config else {
        return Ok(Wanted::ImageNet(a.backbone.clone().unwrap_or_default()));
    };
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading --train-config from standard input")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("--train-config {}", path.display()))?;
    }
    let doc: toml::Table = text
        .parse()
        .with_context(|| format!("--train-config {}: not TOML", path.display()))?;
    let train = doc.get("train").and_then(|t| t.as_table()).with_context(|| {
        format!("--train-config {}: no [train] section; expected the output of rcic-train --print-config", path.display())
    })?;
    let text_of = |k: &str| train.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let backbone = text_of("backbone").unwrap_or_else(|| "mem-densenet161".into());
    Ok(match text_of("pretrained") {
        None => Wanted::Nothing,
        Some(p) if p == "imagenet" => Wanted::ImageNet(backbone),
        Some(p) => Wanted::File(PathBuf::from(p), backbone),
    })
}

fn run() -> Result<()> {
    let a = Args::parse();
    let log = Log::new(a.log.level());
    let dirs = match &a.cache_dir {
        Some(d) => CacheDirs::with_first(d),
        None => CacheDirs::from_env(),
    };
    let backbone = match wanted(&a)? {
        Wanted::Nothing => {
            log.info("no ImageNet weights needed (the training configuration has no --pretrained)");
            return Ok(());
        }
        Wanted::File(p, backbone) => {
            if !p.is_file() {
                bail!("--pretrained {}: no such file; expected torchvision's ImageNet weights of {backbone} (PRETRAINED=FILE)", p.display());
            }
            rcic_pretrained::check_name(&p, &backbone)?;
            println!("{}", p.display());
            return Ok(());
        }
        Wanted::ImageNet(b) => b,
    };
    match rcic_pretrained::find(&backbone, &dirs) {
        Ok(p) => {
            log.info(format!("{}: verified, already here", p.display()));
            println!("{}", p.display());
            return Ok(());
        }
        Err(PretrainedError::Missing { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let s = source(&backbone).expect("find checked the backbone");
    let url = a.url.clone().unwrap_or_else(|| s.url());
    let url = url.as_str();
    // A mirror serves the file under its published name, hash included.
    let name = url.rsplit('/').next().unwrap_or(url);
    let Some(hash) = rcic_pretrained::verify::hash_prefix(name) else {
        bail!(
            "--url {url}: the file name carries no hash (torchvision's NAME-HASH.pth, e.g. {})",
            s.file_name()
        );
    };
    let target = dirs.target(name);
    if let Err(e) = download::fetch(url, &target, hash, a.timeout, &log) {
        // Say what failed, then which file is needed and how else to get it.
        let missing = rcic_pretrained::find(&backbone, &dirs).err();
        bail!(
            "{}\n{}",
            rcic_cli::report::error_chain(e.as_ref()),
            missing.map(|m| m.to_string()).unwrap_or_default()
        );
    }
    println!("{}", target.display());
    Ok(())
}
