//! The binaries refuse bad outputs before any work and say each error's
//! cause once: an output equal to an input or inside --data, below a file;
//! a `--metrics` argument with an empty NAME; a missing input.

use std::path::Path;
use std::process::Command;

fn fails(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).output().unwrap();
    assert!(
        !out.status.success(),
        "{bin} {args:?} unexpectedly succeeded"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn view(args: &[&str]) -> String {
    fails(env!("CARGO_BIN_EXE_rcic-view"), args)
}

fn report(args: &[&str]) -> String {
    fails(env!("CARGO_BIN_EXE_rcic-report"), args)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn view_refuses_outputs_inside_the_data_or_below_a_file() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let png = data.join("train/HEPG2-01/Plate1/B07_s1_w1.png");
    std::fs::create_dir_all(png.parent().unwrap()).unwrap();
    std::fs::write(&png, b"original").unwrap();
    for out in [
        png.clone(),
        data.join("new.png"),
        data.join("train/../x.png"),
    ] {
        let err = view(&[
            "--data",
            s(&data),
            "--id-code",
            "HEPG2-01_1_B07",
            "-o",
            s(&out),
        ]);
        assert!(
            err.contains("-o") && err.contains("--data") && err.contains("inside"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&png).unwrap(), b"original");
    assert!(!data.join("new.png").exists() && !data.join("x.png").exists());
    let err = view(&[
        "--data",
        s(&data),
        "--id-code",
        "HEPG2-01_1_B07",
        "-o",
        s(&png.join("x.png")),
    ]);
    assert!(
        err.contains(&format!("{} is not a directory", png.display()))
            && !err.contains("File exists"),
        "{err}"
    );
}

#[test]
fn report_refuses_overwriting_an_input() {
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("report.json");
    std::fs::write(&json, b"{}").unwrap();
    let alias = d.path().join("sub/../report.json");
    for out in [&json, &alias] {
        let err = report(&["--ensemble", s(&json), "-o", s(out)]);
        assert!(
            err.contains("-o") && err.contains("the input --ensemble"),
            "{err}"
        );
    }
    let m = d.path().join("run.metrics.parquet");
    std::fs::write(&m, b"x").unwrap();
    let arg = format!("seed0={}", m.display());
    let err = report(&["--metrics", &arg, "-o", s(&m)]);
    assert!(err.contains("the input --metrics"), "{err}");
    let data = d.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let err = report(&["--data", s(&data), "-o", s(&data.join("r.html"))]);
    assert!(err.contains("inside the input folder --data"), "{err}");
    assert_eq!(std::fs::read(&json).unwrap(), b"{}");
    assert_eq!(std::fs::read(&m).unwrap(), b"x");
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
}

#[test]
fn metrics_with_an_empty_name_and_missing_inputs_are_reported_clearly() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r.html");
    let err = report(&["--metrics", "=FILE", "-o", s(&out)]);
    assert!(
        err.contains("--metrics =FILE") && err.contains("NAME before '=' is empty"),
        "{err}"
    );
    let missing = d.path().join("nope.json");
    let err = report(&["--ensemble", s(&missing), "-o", s(&out)]);
    assert!(err.contains("nope.json"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    let err = report(&["--metrics", s(&d.path().join("m.parquet")), "-o", s(&out)]);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(!out.exists());
}
