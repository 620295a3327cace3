//! The whole chain on the tiny preset: synth -> preprocess -> train ->
//! export -> predict (TTA) -> ensemble, for every fold, so that a layout-alias
//! target in the validation fold (predicted as test and as validation) works.

use rcic_testkit::run_ok;
use rcic_testkit::tiny::{model as tiny_model, preprocess};

#[test]
fn tiny_chain_produces_a_submission_for_every_test_well() {
    let d = tempfile::tempdir().unwrap();
    let p = |s: &str| d.path().join(s).to_str().unwrap().to_string();
    run_ok(
        "rcic-synth",
        &[
            "--preset",
            "tiny",
            "--out",
            &p("tiny"),
            "--seed",
            "0",
            "--threads",
            "1",
        ],
    );
    preprocess(&p("tiny"), &p("art"));
    let alias = "HUVEC-04=HEPG2-02:1";
    let test_wells = std::fs::read_to_string(d.path().join("tiny/test.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    for cv in ["0", "2"] {
        let m = p(&format!("m{cv}/model"));
        let train = ["-e", "1", "--seed", "0", "--cv-number", cv];
        let pred = tiny_model(&p("tiny"), &p("art"), &m, alias, "2", &train);
        let sub = p(&format!("sub{cv}/submission.csv"));
        run_ok(
            "rcic-ensemble",
            &["--data", &p("tiny"), "--alias", alias, "-o", &sub, &pred],
        );
        let csv = std::fs::read_to_string(&sub).unwrap();
        assert_eq!(csv.lines().next(), Some("id_code,sirna"));
        assert_eq!(
            csv.lines().count() - 1,
            test_wells,
            "fold {cv}: one row per test well"
        );
    }
}
