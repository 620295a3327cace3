//! The artifact store: stable keys, atomic publish, reuse, verification.

use rcic_core::{dataset_key, StageSpec, Store, Verify};
use serde_json::json;

fn spec() -> StageSpec {
    StageSpec::new("preprocess", "1", json!({"image_size": 64, "zstd": 3})).input("data", "abc123")
}

#[test]
fn same_inputs_same_key_any_change_another_key() {
    let a = spec();
    assert_eq!(a.key(), spec().key());
    assert_eq!(a.key().len(), 32);
    // Key order inside params does not matter.
    let reordered = StageSpec::new("preprocess", "1", json!({"zstd": 3, "image_size": 64}))
        .input("data", "abc123");
    assert_eq!(a.key(), reordered.key());
    let variants = [
        StageSpec::new("preprocess", "1", json!({"image_size": 32, "zstd": 3}))
            .input("data", "abc123"),
        StageSpec::new("preprocess", "2", json!({"image_size": 64, "zstd": 3}))
            .input("data", "abc123"),
        StageSpec::new("train", "1", json!({"image_size": 64, "zstd": 3})).input("data", "abc123"),
        StageSpec::new("preprocess", "1", json!({"image_size": 64, "zstd": 3}))
            .input("data", "abc124"),
        StageSpec::new("preprocess", "1", json!({"image_size": 64, "zstd": 3})),
    ];
    for v in &variants {
        assert_ne!(a.key(), v.key(), "{v:?}");
    }
}

#[test]
fn key_is_a_pinned_value_free_of_paths_and_times() {
    // A fixed expectation: keys must be identical across runs and machines.
    assert_eq!(spec().key(), spec().key());
    let k = spec().key();
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(k, spec().key());
    assert_eq!(
        k, PINNED_KEY,
        "key derivation changed: bump KEY_DOMAIN deliberately and update this value"
    );
}
const PINNED_KEY: &str = "7143071dfae1ff946dabe970a0a330a6";

#[test]
fn publish_then_reuse_and_verify_detects_corruption() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path().join("artifacts")).unwrap();
    assert!(store.lookup(&spec(), Verify::Full).unwrap().is_none());
    let w = store.begin(&spec()).unwrap();
    std::fs::write(w.dir().join("a.bin"), b"hello").unwrap();
    std::fs::create_dir(w.dir().join("sub")).unwrap();
    std::fs::write(w.dir().join("sub/b.txt"), b"world").unwrap();
    let art = w.commit().unwrap();
    assert_eq!(art.dir, store.dir("preprocess", &spec().key()));
    let names: Vec<&str> = art.manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(names, ["a.bin", "sub/b.txt"]);
    let again = store
        .lookup(&spec(), Verify::Full)
        .unwrap()
        .expect("reused");
    assert_eq!(again.manifest.files, art.manifest.files);
    again.verify().unwrap();

    // Same size, different content: only a full verification sees it.
    std::fs::write(art.dir.join("a.bin"), b"HELLO").unwrap();
    let err = art.verify().unwrap_err().to_string();
    assert!(err.contains("a.bin") && err.contains("hash"), "{err}");
    assert!(store.lookup(&spec(), Verify::Full).unwrap().is_none());
    assert!(store.lookup(&spec(), Verify::Sizes).unwrap().is_some());
    // A deleted file is caught by both.
    std::fs::remove_file(art.dir.join("sub/b.txt")).unwrap();
    assert!(store.lookup(&spec(), Verify::Sizes).unwrap().is_none());

    // Recomputing replaces the corrupt artifact.
    let w = store.begin(&spec()).unwrap();
    std::fs::write(w.dir().join("a.bin"), b"hello").unwrap();
    std::fs::create_dir(w.dir().join("sub")).unwrap();
    std::fs::write(w.dir().join("sub/b.txt"), b"world").unwrap();
    w.commit().unwrap();
    store
        .lookup(&spec(), Verify::Full)
        .unwrap()
        .expect("replaced")
        .verify()
        .unwrap();
}

#[test]
fn an_uncommitted_run_is_never_reused() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    // Dropped without commit (an error or a panic mid-write).
    let w = store.begin(&spec()).unwrap();
    let tmp = w.dir().to_path_buf();
    std::fs::write(tmp.join("a.bin"), b"partial").unwrap();
    drop(w);
    assert!(!tmp.exists(), "the temporary folder is removed");
    assert!(store.lookup(&spec(), Verify::Full).unwrap().is_none());
    // A leftover temporary folder of a killed process, even with a manifest.
    let stage = d.path().join("preprocess");
    let leftover = stage.join(format!(".tmp-{}-999-1", spec().key()));
    std::fs::create_dir_all(&leftover).unwrap();
    std::fs::write(leftover.join("manifest.json"), b"{}").unwrap();
    assert!(store.lookup(&spec(), Verify::Full).unwrap().is_none());
    assert!(store.list("preprocess").unwrap().is_empty());
    // A final folder without a manifest (killed between files) is not an artifact either.
    std::fs::create_dir_all(store.dir("preprocess", &spec().key())).unwrap();
    assert!(store.lookup(&spec(), Verify::Full).unwrap().is_none());
    assert_eq!(store.clean_temporaries().unwrap(), 1);
    // And a real run still publishes over it.
    let w = store.begin(&spec()).unwrap();
    std::fs::write(w.dir().join("a.bin"), b"ok").unwrap();
    w.commit().unwrap();
    assert_eq!(store.list("preprocess").unwrap().len(), 1);
}

#[test]
fn dataset_key_follows_content_not_location_or_time() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [a.path(), b.path()] {
        std::fs::write(d.join("train.csv"), "id_code\n").unwrap();
        std::fs::create_dir_all(d.join("train/E-01/Plate1")).unwrap();
        std::fs::write(d.join("train/E-01/Plate1/B02_s1_w1.png"), b"png").unwrap();
    }
    let ka = dataset_key(a.path()).unwrap();
    assert_eq!(ka, dataset_key(b.path()).unwrap());
    std::fs::write(b.path().join("train/E-01/Plate1/B02_s1_w1.png"), b"pnG").unwrap();
    assert_ne!(ka, dataset_key(b.path()).unwrap());
    std::fs::write(b.path().join("train/E-01/Plate1/B02_s1_w1.png"), b"png").unwrap();
    std::fs::write(b.path().join("train.csv"), "id_code \n").unwrap();
    assert_ne!(ka, dataset_key(b.path()).unwrap());
}

#[test]
fn a_new_run_removes_what_killed_runs_of_this_machine_left() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let stage = d.path().join("preprocess");
    std::fs::create_dir_all(&stage).unwrap();
    // The machine's name as temporary folders carry it.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "host".into());
    let key = spec().key();
    let dead_pid = 4_000_000_000u32; // above any Linux pid_max
    let me = std::process::id();
    let names = [
        (format!(".tmp-{key}-{host}-{dead_pid}-1"), false),
        (format!(".trash-{key}-{host}-{dead_pid}-2"), false),
        (format!(".tmp-{key}-{host}-{me}-3"), true),
        (format!(".tmp-{key}-otherhost-{dead_pid}-4"), true),
        (format!(".tmp-{key}-{dead_pid}-5"), true),
        ("notes".to_string(), true),
    ];
    for (n, _) in &names {
        std::fs::create_dir_all(stage.join(n)).unwrap();
    }
    let w = store.begin(&spec()).unwrap();
    std::fs::write(w.dir().join("a.bin"), b"ok").unwrap();
    w.commit().unwrap();
    for (n, kept) in &names {
        assert_eq!(stage.join(n).exists(), *kept, "{n}");
    }
}

#[test]
fn hashes_recorded_while_writing_seal_the_artifact_and_verify() {
    use rcic_core::hashing::HashingWriter;
    use std::io::Write;
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path().join("artifacts")).unwrap();
    let mut w = store.begin(&spec()).unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let mut hw = HashingWriter::new(std::fs::File::create(w.dir().join("big.bin")).unwrap());
    hw.write_all(&data).unwrap();
    let (_, bytes, hex) = hw.finish().unwrap();
    w.record_hash("big.bin", bytes, hex.clone());
    // A record whose size no longer matches the file is not trusted: hashed again.
    std::fs::write(w.dir().join("small.bin"), b"abc").unwrap();
    w.record_hash("small.bin", 99, "0".repeat(64));
    let art = w.commit().unwrap();
    let files = &art.manifest.files;
    assert_eq!(files[0].path, "big.bin");
    assert_eq!(
        (files[0].bytes, files[0].blake3.as_str()),
        (100_000, hex.as_str())
    );
    assert_eq!(hex, blake3::hash(&data).to_hex().to_string());
    assert_eq!(files[1].path, "small.bin");
    assert_eq!(files[1].bytes, 3);
    assert_eq!(files[1].blake3, blake3::hash(b"abc").to_hex().to_string());
    art.verify().unwrap();
}
