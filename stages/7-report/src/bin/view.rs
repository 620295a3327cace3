//! `rcic-view`: one site of a Kaggle-layout RxRx1 root as a PNG, the six
//! channels combined in Recursion's colour convention (rxrx1-utils), to look
//! at what the pipeline is fed: `rcic-view --data DIR --id-code
//! HEPG2-01_1_B03 --site 1 -o site.png [--size 256]`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use rcic_cli::output::{check_output, Input, Output};
use rcic_cli::publish::write_atomic;
use rcic_report::catalog::Catalog;
use rcic_report::site::{encode_png, locate, read_composite, resize};

#[derive(Parser, Debug)]
#[command(
    name = "rcic-view",
    version,
    about = "Render one site of a Kaggle-layout RxRx1 root as an RGB PNG in Recursion's channel colours (channel c: colour and display range of rxrx1-utils; contributions summed, clipped to 255)"
)]
struct Cli {
    /// Kaggle RxRx1 root: {train,test}/EXP/PlateP/WELL_sS_wC.png, and the
    /// CSVs that say whether a well is in train or test (without CSVs the
    /// image files decide).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,

    /// The well, EXPERIMENT_PLATE_WELL, like HEPG2-01_1_B03.
    #[arg(long = "id-code", value_name = "ID_CODE")]
    id_code: String,

    /// The site of the well, 1 or 2.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    site: u8,

    /// PNG to write (atomically: a temporary sibling renamed into place);
    /// outside --data.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,

    /// Resize (bilinear) so that the longer side is N pixels [default: the
    /// site's own size].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16384))]
    size: Option<u32>,
}

fn main() {
    rcic_cli::report::main(real_main);
}

fn real_main() -> Result<()> {
    let cli: Cli = rcic_cli::config::parse("view");
    check_output(
        &Output::new("-o", &cli.output),
        &[Input::Folder("--data", &cli.data)],
    )?;
    let cat = Catalog::read(&cli.data)?;
    let loc = locate(&cat, &cli.id_code, cli.site)?;
    let img = read_composite(&cli.data, &loc, cli.site)?;
    let img = match cli.size {
        Some(n) => resize(img, n),
        None => img,
    };
    let png = encode_png(&img)
        .with_context(|| format!("cannot encode the PNG for {}", cli.output.display()))?;
    write_atomic(&cli.output, &png)?;
    eprintln!(
        "{} site {} ({}{}) -> {} ({}x{})",
        loc.id_code,
        cli.site,
        loc.split.as_str(),
        loc.sirna
            .map(|s| format!(", sirna {s}"))
            .unwrap_or_default(),
        cli.output.display(),
        img.width(),
        img.height()
    );
    Ok(())
}
