//! `rcic-artifact`: the Makefile's seal tool. `seal FILE...` records each
//! finished output's digest; `verify FILE...` says whether each still
//! matches (for `make plan`); `check DIR...` removes every seal (and file)
//! that no longer matches, before make decides what to rebuild. A DIR that
//! does not exist is an error (a mistyped path would otherwise check
//! nothing, silently) unless `--missing-ok` says it may not exist yet.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rcic-artifact",
    about = "Seal pipeline outputs and check their seals"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write FILE.blake3 (the file's blake3 digest) for each FILE.
    Seal {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Whether each FILE has a seal that matches it (exit status 1 and a
    /// line per file otherwise); removes nothing (what `make plan` asks).
    Verify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check every seal under each DIR; remove a damaged output and its seal.
    Check {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// A DIR that does not exist has no seals (say so for a store that
        /// a first run has yet to create); without it, that is an error.
        #[arg(long)]
        missing_ok: bool,
    },
}

fn main() {
    rcic_cli::report::main(run);
}

fn run() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Seal { files } => {
            for f in files {
                rcic_artifact::seal_file(&f).with_context(|| format!("sealing {}", f.display()))?;
            }
        }
        Cmd::Verify { files } => {
            let mut bad = 0;
            for f in &files {
                let seal = rcic_artifact::seal_path(f);
                let state = if seal.is_file() {
                    match rcic_artifact::verify_seal(&seal)? {
                        rcic_artifact::Outcome::Intact => continue,
                        rcic_artifact::Outcome::Missing => "missing",
                        rcic_artifact::Outcome::Changed => "changed since it was sealed",
                    }
                } else {
                    "not sealed"
                };
                println!("{}: {state}", f.display());
                bad += 1;
            }
            if bad > 0 {
                std::process::exit(1);
            }
        }
        Cmd::Check { dirs, missing_ok } => {
            for d in &dirs {
                if !missing_ok && !d.exists() {
                    bail!(
                        "{}: no such folder; expected a folder of sealed outputs (--missing-ok: a missing one has no seals)",
                        d.display()
                    );
                }
            }
            for d in dirs {
                let removed = rcic_artifact::check_tree(&d)
                    .with_context(|| format!("checking the seals under {}", d.display()))?;
                for (file, why) in removed {
                    eprintln!(
                        "rcic-artifact: {} ({why}): removed, it will be recomputed",
                        file.display()
                    );
                }
            }
        }
    }
    Ok(())
}
