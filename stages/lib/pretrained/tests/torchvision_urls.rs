//! The table of published files equals what the venv's torchvision
//! downloads for `pretrained=True` (each backbone's IMAGENET1K_V1 weights).

#[test]
fn every_address_is_torchvisions() {
    let names: Vec<&str> = rcic_pretrained::source::FILES
        .iter()
        .map(|(b, _)| *b)
        .collect();
    let code = format!(
        "import torchvision.models as m\nfor n in {names:?}:\n    print(n, m.get_model_weights(n).IMAGENET1K_V1.url)"
    );
    let out = std::process::Command::new(rcic_testkit::python())
        .args(["-c", &code])
        .output()
        .expect("the venv's python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        let (name, url) = line.split_once(' ').unwrap();
        assert_eq!(rcic_pretrained::source(name).unwrap().url(), url, "{name}");
    }
    assert_eq!(text.lines().count(), names.len());
}
