//! `--config` and `--print-config` on a small stage-like command.

use std::path::PathBuf;

use super::*;

#[derive(clap::Parser, Debug, PartialEq)]
struct Args {
    #[arg(short = 'e', long, default_value_t = 90)]
    epochs: u32,
    #[arg(long, default_value = "cosine,1.5e-4")]
    lr: String,
    #[arg(long, required_unless_present = "fp16")]
    save: Option<PathBuf>,
    #[arg(long)]
    cutmix: Option<f64>,
    #[arg(long)]
    fp16: bool,
    #[arg(long = "metric", action = ArgAction::Append)]
    metrics: Vec<String>,
    #[command(flatten)]
    alias: crate::args::AliasArg,
    files: Vec<PathBuf>,
}

fn preset(text: &str) -> (tempfile::TempDir, String) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("p.toml");
    std::fs::write(&p, text).unwrap();
    (d, p.display().to_string())
}

fn parse(argv: &[&str]) -> Result<Args, String> {
    let mut v = vec!["stage"];
    v.extend(argv);
    parse_from::<Args>("train", v)
        .map(|a| a.expect("not printed"))
        .map_err(|e| e.to_string())
}

const PRESET: &str = r#"
[common]
alias = "A=B:1"
tta = 8

[train]
epochs = 30
lr = "cosine,3e-3"
cutmix = 0
fp16 = true
metric = ["a", "b"]
"#;

#[test]
fn the_section_sets_flags_and_the_command_line_overrides_single_ones() {
    let (_d, p) = preset(PRESET);
    let a = parse(&["--config", &p, "--save", "m", "x.parquet"]).unwrap();
    assert_eq!(a.epochs, 30);
    assert_eq!(a.lr, "cosine,3e-3");
    assert_eq!(a.cutmix, Some(0.0));
    assert!(a.fp16);
    assert_eq!(a.metrics, ["a", "b"]);
    assert_eq!(a.alias.alias, "A=B:1");
    assert_eq!(a.files, [PathBuf::from("x.parquet")]);
    let b = parse(&[
        "-e",
        "5",
        &format!("--config={p}"),
        "--save",
        "m",
        "--metric",
        "c",
        "--alias",
        "none",
    ])
    .unwrap();
    assert_eq!((b.epochs, b.lr.as_str()), (5, "cosine,3e-3"));
    assert_eq!(b.metrics, ["c"]);
    assert_eq!(b.alias.alias, "none");
    let c = parse(&["--save", "m"]).unwrap();
    assert_eq!((c.epochs, c.cutmix, c.fp16), (90, None, false));
    assert!(parse(&[]).unwrap_err().contains("--save"));
}

#[test]
fn unknown_keys_bad_values_and_bad_files_are_named() {
    let (_d, p) = preset("[train]\nepoch = 3\n");
    let m = parse(&["--config", &p, "--save", "m"]).unwrap_err();
    assert!(
        m.contains("[train] epoch: not a flag of this stage; expected one of epochs, lr"),
        "{m}"
    );
    let (_d, p) = preset("[train]\nfp16 = \"yes\"\n");
    let m = parse(&["--config", &p, "--save", "m"]).unwrap_err();
    assert!(
        m.contains("[train] fp16 = \"yes\": expected true or false"),
        "{m}"
    );
    let (_d, p) = preset("[train]\nepochs = \"many\"\n");
    let m = parse(&["--config", &p, "--save", "m"]).unwrap_err();
    assert!(m.contains("many"), "{m}");
    let (_d, p) = preset("[train\n");
    let m = parse(&["--config", &p, "--save", "m"]).unwrap_err();
    assert!(m.contains("not a valid TOML file"), "{m}");
    let m = parse(&["--config", "/nonexistent.toml", "--save", "m"]).unwrap_err();
    assert!(m.contains("--config /nonexistent.toml"), "{m}");
    let (_d, p) = preset("train = 3\n");
    let m = parse(&["--config", &p, "--save", "m"]).unwrap_err();
    assert!(m.contains("[train] must be a table"), "{m}");
}

#[test]
fn the_resolved_configuration_is_a_section_that_reads_back() {
    let (_d, p) = preset(PRESET);
    let cmd = command::<Args>(true);
    let argv = ["stage", "--config", &p, "--lr", "step,1"].map(OsString::from);
    let table = read(Path::new(&p), "train").unwrap();
    let given = given_ids(&cmd, &argv[1..]);
    let mut full = vec![OsString::from("stage")];
    full.extend(
        flags_of(&cmd, &table, "train", &p, &given)
            .unwrap()
            .into_iter()
            .map(OsString::from),
    );
    full.extend(argv.iter().skip(1).cloned());
    let m = cmd.clone().try_get_matches_from(full).unwrap();
    let text = resolved(&cmd, &m, "train");
    assert!(text.starts_with("[train]\n"), "{text}");
    for line in [
        "epochs = \"30\"",
        "lr = \"step,1\"",
        "fp16 = true",
        "metric = [\"a\", \"b\"]",
        "alias = \"A=B:1\"",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(!text.contains("config") && !text.contains("save"), "{text}");
    // Read back as a preset, it resolves to the same configuration.
    let (_d2, p2) = preset(&text);
    let a = parse(&["--config", &p2, "--save", "m"]).unwrap();
    assert_eq!((a.epochs, a.lr.as_str(), a.fp16), (30, "step,1", true));
    assert!(parse_from::<Args>("train", ["stage", "--print-config"])
        .unwrap()
        .is_none());
}
