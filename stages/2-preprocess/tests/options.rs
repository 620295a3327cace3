//! Flags and output folders refused before any work: an `-o` that is not
//! empty (beyond an earlier run's output), equal to or inside the dataset,
//! or below a file; zstd levels and thread counts out of range. The progress line in a pipe.

mod common;

use std::path::Path;

use common::*;

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn fails(args: &[&str]) -> String {
    let o = run(args);
    assert!(!o.status.success(), "{args:?} unexpectedly succeeded");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn output_folder_must_be_empty_and_outside_the_data() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let before = names(&data);

    let ne = d.path().join("nonempty");
    std::fs::create_dir(&ne).unwrap();
    std::fs::write(ne.join("keep.txt"), "x").unwrap();
    let err = fails(&["--data", s(&data), "-o", s(&ne), "-q"]);
    assert!(
        err.contains("exists and is not empty") && err.contains("keep.txt"),
        "{err}"
    );
    assert_eq!(names(&ne), vec!["keep.txt"]);

    for o in [data.clone(), data.join("out"), data.join("train/../x")] {
        let err = fails(&["--data", s(&data), "-o", s(&o), "-q"]);
        assert!(
            err.contains("-o ") && err.contains("lies inside the input folder --data"),
            "{err}"
        );
    }
    assert_eq!(names(&data), before);

    let f = d.path().join("file");
    std::fs::write(&f, "x").unwrap();
    let err = fails(&["--data", s(&data), "-o", s(&f.join("x")), "-q"]);
    assert!(
        err.contains(&format!("{} is not a directory", f.display()))
            && !err.contains("File exists"),
        "{err}"
    );
    let err = fails(&["--data", s(&data), "-o", s(&f), "-q"]);
    assert!(
        err.contains(&format!("{} is not a directory", f.display())),
        "{err}"
    );
    assert_eq!(names(d.path()), vec!["data", "file", "nonempty"]);

    // An earlier run's output may be reused or replaced.
    let out = d.path().join("out");
    run_ok(&["--data", s(&data), "-o", s(&out), "-q"]);
    let (_, err) = run_ok(&["--data", s(&data), "-o", s(&out)]);
    assert!(err.contains("reused existing artifact"), "{err}");
    run_ok(&["--data", s(&data), "-o", s(&out), "--image-size", "8", "-q"]);
    assert_eq!(
        rcic_core::tensors::SiteTensors::open(&out)
            .unwrap()
            .image_size(),
        8
    );
    std::fs::write(out.join("notes.txt"), "x").unwrap();
    let err = fails(&["--data", s(&data), "-o", s(&out), "--image-size", "4", "-q"]);
    assert!(err.contains("notes.txt"), "{err}");
}

#[test]
fn zstd_level_and_threads_are_checked_at_parse_time() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("absent");
    for (flag, v, range) in [
        ("--zstd-level", "0", "1..=22"),
        ("--zstd-level", "23", "1..=22"),
        ("--threads", "100000", "0..=1024"),
    ] {
        let err = fails(&["--data", s(&data), "-o", s(&d.path().join("o")), flag, v]);
        assert!(err.contains(flag) && err.contains(range), "{err}");
    }
    assert!(names(d.path()).is_empty());
}

#[test]
fn progress_reaches_pipes_as_plain_lines_and_q_silences_it() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let run = |store: &str, quiet: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_rcic-preprocess"));
        c.args(["--data", s(&data), "--store", s(&d.path().join(store))])
            .args(["--threads", "1"]);
        rcic_testkit::progress::stderr_of(c, quiet)
    };
    rcic_testkit::progress::plain_lines(&run("a", false), "preprocess", "sites");
    assert!(!run("b", true).contains(" preprocess: "));
}
