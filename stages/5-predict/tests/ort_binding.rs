//! The IO-binding path of the ONNX Runtime engine (what every CUDA session
//! runs: inputs bound per batch, logits bound to host memory) gives the same
//! logits as a plain run. Checked on the CPU execution provider, so that the
//! binding code itself is tested where no GPU is.

mod common;

use common::*;
use rcic_predict::engine::Engine;
use rcic_predict::ort_engine::{OrtDevice, OrtEngine};

#[test]
fn io_binding_gives_the_plain_runs_logits() {
    let f = fixture();
    let model = f.root.join("m.onnx");
    let mut plain = OrtEngine::open(&model, OrtDevice::Cpu, 1).unwrap();
    let mut bound = OrtEngine::open(&model, OrtDevice::Cpu, 1)
        .unwrap()
        .with_io_binding()
        .unwrap();
    assert!(!plain.io_binding() && bound.io_binding());
    let ct = plain.shape().cell_types.unwrap() as usize;
    let classes = plain.shape().classes as usize;
    let s = 32;
    // Two batches of different sizes through the same binding.
    for n in [3usize, 5] {
        let images: Vec<f32> = (0..n * 6 * s * s)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
            .collect();
        let mut cells = vec![0f32; n * ct];
        for k in 0..n {
            cells[k * ct + k % ct] = 1.0;
        }
        let a = plain.run(&images, n, s, &cells).unwrap();
        let b = bound.run(&images, n, s, &cells).unwrap();
        assert_eq!(a.len(), n * classes);
        assert_eq!(a, b, "batch of {n}");
    }
}
