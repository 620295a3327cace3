//! Benchmark: export time and ONNX size for a backbone (default
//! densenet161), and ONNX Runtime CPU latency per image at given sizes.
//!
//!     cargo run --release -p rcic-export --example bench -- [BACKBONE] [SIZES=64,512] [RUNS=5] [THREADS=2]
//!
//! Export is timed as the CLI does it: read the checkpoint, verify it
//! against the architecture, build the graph, write the file.

use std::collections::BTreeMap;
use std::time::Instant;

use ndarray::{Array2, Array4};
use ort::session::Session;
use ort::value::TensorRef;
use rcic_export::{build_onnx, verified_tensors, ExportOptions};
use rcic_model::checkpoint::save;
use rcic_model::{Checkpoint, ModelConfig, Network};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backbone = args.get(1).map_or("densenet161", String::as_str);
    let sizes: Vec<usize> = args
        .get(2)
        .map_or("64,512", String::as_str)
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let runs: usize = args.get(3).map_or(5, |s| s.parse().unwrap());
    let threads: usize = args.get(4).map_or(2, |s| s.parse().unwrap());

    let dir = tempfile::tempdir().unwrap();
    let config = ModelConfig::from_backbone(backbone).unwrap();
    let ck = dir.path().join("ck.safetensors");
    {
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let _ = Network::new(&vs, &config).unwrap();
        save(&ck, &vs, &config, &BTreeMap::new()).unwrap();
    }
    let onnx = dir.path().join("model.onnx");
    let mut times = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let c = Checkpoint::read(&ck).unwrap();
        let t = verified_tensors(&config, &c.tensors, &ck).unwrap();
        let m = build_onnx(&config, &t, &ExportOptions::default()).unwrap();
        std::fs::write(&onnx, m.to_bytes()).unwrap();
        times.push(t0.elapsed().as_secs_f64());
    }
    let bytes = std::fs::metadata(&onnx).unwrap().len();
    println!(
        "export {backbone} fp32: {:.2} s (median of 3), {:.1} MB",
        median(times),
        bytes as f64 / 1e6
    );

    let lib = std::env::var("ORT_DYLIB_PATH").expect("set ORT_DYLIB_PATH to libonnxruntime");
    let env = ort::init_from(&lib).unwrap().build().unwrap();
    let mut sess: Session = Session::builder(&env)
        .unwrap()
        .with_intra_threads(threads)
        .unwrap()
        .commit_from_file(&onnx)
        .unwrap();
    for &s in &sizes {
        let x = Array4::<f32>::from_shape_fn((1, 6, s, s), |(_, c, i, j)| {
            ((c * 31 + i * 7 + j * 3) % 17) as f32 / 17.0 - 0.5
        });
        let cell = Array2::<f32>::from_shape_fn((1, 4), |(_, j)| (j == 1) as u8 as f32);
        let mut run = || {
            let t0 = Instant::now();
            let out = sess
                .run(ort::inputs!["image" => TensorRef::from_array_view(&x).unwrap(), "cell_type" => TensorRef::from_array_view(&cell).unwrap()])
                .unwrap();
            let _ = out["logits"].try_extract_tensor::<f32>().unwrap();
            t0.elapsed().as_secs_f64()
        };
        run();
        let t: Vec<f64> = (0..runs).map(|_| run()).collect();
        println!("ort cpu {backbone} {s}px: {:.1} ms/image (threads {threads}, median of {runs}, batch 1)", median(t) * 1e3);
    }
}
