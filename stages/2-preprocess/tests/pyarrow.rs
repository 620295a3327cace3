//! pyarrow (the venv's, as outside tools would) reads the three Parquet
//! kinds and sees the schemas of data-schemas/. Skipped, with a notice, only
//! when pyarrow is not importable.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

const SCRIPT: &str = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
def ty(t):
    if pa.types.is_string(t): return "utf8"
    if pa.types.is_fixed_size_binary(t): return f"fixed_size_binary<{t.byte_width}>"
    if pa.types.is_fixed_size_list(t): return f"fixed_size_list<{ty(t.value_type)}, {t.list_size}>"
    return {"float": "float32", "double": "float64"}.get(str(t), str(t))
for path in sys.argv[1:]:
    s = pq.read_schema(path)
    print("==", path.rsplit("/", 1)[-1])
    for f in s:
        print(f"{f.name}: {ty(f.type)}{', nullable' if f.nullable else ''}")
    keys = sorted(k.decode() for k in (s.metadata or {}) if not k.startswith(b"ARROW:"))
    print("metadata: " + ", ".join(keys))
    t = pq.read_table(path)
    print("rows", t.num_rows)
"#;

fn python() -> PathBuf {
    let venv = std::env::var_os("VIRTUAL_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(format!(
                "{}/../../.venv",
                std::env::var_os("CARGO_MANIFEST_DIR")
                    .map_or_else(
                        || std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
                            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
                            std::path::PathBuf::from
                        ),
                        std::path::PathBuf::from
                    )
                    .display()
            ))
        });
    venv.join("bin/python")
}

/// The `arrow-schema` block of a data-schemas document.
fn documented(name: &str) -> String {
    let path = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../../data-schemas")
        .join(format!("{name}.md"));
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("```arrow-schema").unwrap();
    let body = &text[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}

#[test]
fn pyarrow_reads_the_documented_schemas() {
    let py = python();
    let ok = Command::new(&py)
        .args(["-c", "import pyarrow"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("NOTICE: skipping pyarrow_reads_the_documented_schemas: pyarrow is not importable by {}", py.display());
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    write_dataset(&data);
    let out = d.path().join("out");
    run_ok(&["--data", s(&data), "-o", s(&out), "-q"]);
    let files = [
        "tensors-HEPG2-01_1.parquet",
        "sites.parquet",
        "pixel_stats.parquet",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| out.join(f).display().to_string())
        .collect();
    let o = Command::new(&py)
        .arg("-c")
        .arg(SCRIPT)
        .args(&paths)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let blocks: Vec<&str> = text.split("== ").skip(1).collect();
    let section = |i: usize| -> (String, usize) {
        let b = blocks[i];
        let body: Vec<&str> = b.lines().skip(1).collect();
        let rows = body
            .last()
            .unwrap()
            .strip_prefix("rows ")
            .unwrap()
            .parse()
            .unwrap();
        (
            body[..body.len() - 1]
                .iter()
                .map(|l| format!("{l}\n"))
                .collect(),
            rows,
        )
    };
    // The document shows 512 px; this data is 16 px: only the pixel width differs.
    let tensors_doc = documented("tensors").replace(
        "fixed_size_binary<1572864>",
        &format!("fixed_size_binary<{}>", 6 * 16 * 16),
    );
    assert_eq!(section(0), (tensors_doc, 8));
    assert_eq!(section(1), (documented("sites"), 64));
    assert_eq!(section(2), (documented("pixel_stats"), 60));
}
