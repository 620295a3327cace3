//! The Arrow schemas built by the code equal the documents in data-schemas/.

use std::collections::HashMap;

#[test]
fn every_documented_schema_matches_the_code() {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../../../data-schemas");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let Some(fence) = line.strip_prefix("```arrow-schema") else {
                continue;
            };
            let params: HashMap<String, usize> = fence
                .split_whitespace()
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("fence parameter k=v");
                    (k.to_string(), v.parse().expect("numeric parameter"))
                })
                .collect();
            let block: String = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .map(|l| format!("{l}\n"))
                .collect();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let schema = rcic_core::schema::by_name(&name, &params)
                .unwrap_or_else(|| panic!("{name}: no schema in code"));
            assert_eq!(
                rcic_core::schema::render(&schema),
                block,
                "{}",
                path.display()
            );
            checked.push(name);
        }
    }
    checked.sort();
    assert_eq!(
        checked,
        ["metrics", "pixel_stats", "predictions", "sites", "tensors"]
    );
}

#[test]
fn sites_parquet_is_written_with_its_schema() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("data");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(
        root.join("train.csv"),
        "id_code,experiment,plate,well,sirna\nA-01_1_B02,A-01,1,B02,0\n",
    )
    .unwrap();
    std::fs::write(
        root.join("test.csv"),
        "id_code,experiment,plate,well\nA-02_1_B02,A-02,1,B02\n",
    )
    .unwrap();
    std::fs::write(
        root.join("train_controls.csv"),
        "id_code,experiment,plate,well,sirna,well_type\nA-01_1_B03,A-01,1,B03,1,negative_control\n",
    )
    .unwrap();
    std::fs::write(
        root.join("test_controls.csv"),
        "id_code,experiment,plate,well,sirna,well_type\n",
    )
    .unwrap();
    let ix = rcic_core::DatasetIndex::load(&root, &Default::default()).unwrap();
    let batch = rcic_core::sites_table::sites_batch(&ix, "k").unwrap();
    assert_eq!(batch.num_rows(), 6);
    assert_eq!(
        rcic_core::schema::render(batch.schema().as_ref()),
        rcic_core::schema::render(&rcic_core::schema::sites_schema())
    );
    assert_eq!(batch.schema().metadata()["treatments"], "1");
    let out = d.path().join("sites.parquet");
    rcic_core::sites_table::write_sites(&ix, "k", &out).unwrap();
    assert!(std::fs::metadata(&out).unwrap().len() > 0);
}
