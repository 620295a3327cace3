//! Proves the native ONNX Runtime (the venv's libonnxruntime, loaded
//! dynamically) runs a model this crate writes, and checks its output
//! numerically against the same arithmetic done by hand.

use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;
use rcic_onnx::{Attribute, DataType, Graph, Model, Node, Tensor, ValueInfo};

/// ORT_DYLIB_PATH (set by the Makefile), else the project venv's library.
fn init_ort() -> ort::environment::Environment {
    let path = rcic_testkit::onnxruntime_library();
    ort::init_from(&path)
        .expect("load libonnxruntime")
        .build()
        .expect("ORT environment")
}

#[test]
fn runs_a_written_gemm_relu_softmax_model() {
    let env = init_ort();
    // y = softmax(relu(0.5 * x @ W^T + b)), x: [batch, 3], W: [4, 3].
    let w: Vec<f32> = vec![
        1.0, -2.0, 0.5, 0.0, 1.0, 1.0, -1.0, 0.25, 2.0, 3.0, 0.0, -0.5,
    ];
    let b: Vec<f32> = vec![0.1, -0.2, 0.3, 0.0];
    let graph = Graph {
        name: "test".into(),
        nodes: vec![
            Node::new("Gemm", "fc", &["x", "W", "b"], &["h"])
                .attr("transB", Attribute::Int(1))
                .attr("alpha", Attribute::Float(0.5)),
            Node::new("Relu", "act", &["h"], &["r"]),
            Node::new("Softmax", "sm", &["r"], &["y"]).attr("axis", Attribute::Int(-1)),
        ],
        initializers: vec![Tensor::f32("W", &[4, 3], &w), Tensor::f32("b", &[4], &b)],
        inputs: vec![ValueInfo {
            name: "x".into(),
            data_type: DataType::Float,
            shape: vec![Err("batch".into()), Ok(3)],
        }],
        outputs: vec![ValueInfo {
            name: "y".into(),
            data_type: DataType::Float,
            shape: vec![Err("batch".into()), Ok(4)],
        }],
    };
    let mut model = Model::new(graph);
    model.metadata.push(("rcic.test".into(), "yes".into()));
    let bytes = model.to_bytes();

    let mut session = Session::builder(&env)
        .unwrap()
        .commit_from_memory(&bytes)
        .expect("ORT accepts the model");
    {
        let meta = session.metadata().unwrap();
        assert_eq!(meta.custom("rcic.test").as_deref(), Some("yes"));
    }

    let x = Array2::from_shape_vec((2, 3), vec![1.0f32, 2.0, 3.0, -1.0, 0.5, 4.0]).unwrap();
    let outputs = session
        .run(ort::inputs!["x" => TensorRef::from_array_view(&x).unwrap()])
        .unwrap();
    let (shape, y) = outputs["y"].try_extract_tensor::<f32>().unwrap();
    assert_eq!(&**shape, &[2, 4]);
    for r in 0..2 {
        let h: Vec<f64> = (0..4)
            .map(|o| {
                let dot: f64 = (0..3).map(|i| x[[r, i]] as f64 * w[o * 3 + i] as f64).sum();
                (0.5 * dot + b[o] as f64).max(0.0)
            })
            .collect();
        let z: f64 = h.iter().map(|v| v.exp()).sum();
        for o in 0..4 {
            let want = h[o].exp() / z;
            assert!(
                (y[r * 4 + o] as f64 - want).abs() < 1e-6,
                "row {r} col {o}: {} vs {want}",
                y[r * 4 + o]
            );
        }
    }
}
