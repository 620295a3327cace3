//! Training-step throughput of the network alone (forward, combined loss,
//! backward, Adam) on random batches: `step_bench BACKBONE SIZE BATCH STEPS THREADS`.
//! Prints `samples/s` of the median step; the Python peer is bench/torch_step.py.
//! `DEVICE=cuda` runs it on CUDA device 0 and `PRECISION=fp16|bf16` under
//! the trainer's mixed precision (autocast, loss scaling), as `--fp16`/`--bf16` do.

use std::collections::BTreeMap;
use std::time::Instant;

use rcic_model::{ModelConfig, Network};
use rcic_train::loss::total_loss;
use rcic_train::mixing::smooth_labels;
use rcic_train::optimizer::Adam;
use rcic_train::precision::{LossScaler, Precision};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let backbone = a.get(1).map_or("densenet-tiny", |s| s.as_str());
    let size: i64 = a.get(2).map_or(64, |s| s.parse().unwrap());
    let batch: i64 = a.get(3).map_or(24, |s| s.parse().unwrap());
    let steps: usize = a.get(4).map_or(10, |s| s.parse().unwrap());
    let threads: i32 = a.get(5).map_or(2, |s| s.parse().unwrap());
    tch::set_num_threads(threads);
    rcic_core::tensors::tune_allocator();
    tch::manual_seed(0);
    let mut config = ModelConfig::from_backbone(backbone).unwrap();
    config.cell_types = 4;
    let device = match std::env::var("DEVICE").as_deref() {
        Ok("cuda") => Device::Cuda(0),
        Ok("cpu") | Err(_) => Device::Cpu,
        Ok(other) => panic!("DEVICE: expected cpu or cuda, got {other:?}"),
    };
    assert!(
        !device.is_cuda() || tch::Cuda::is_available(),
        "DEVICE=cuda: libtorch sees no CUDA device"
    );
    let (fp16, bf16) = match std::env::var("PRECISION").as_deref() {
        Ok("fp32") | Err(_) => (false, false),
        Ok("fp16") => (true, false),
        Ok("bf16") => (true, true),
        Ok(other) => panic!("PRECISION: expected fp32, fp16 or bf16, got {other:?}"),
    };
    let precision = Precision::resolve(fp16, bf16, device);
    precision.activate();
    let mut scaler = LossScaler::new(precision);
    let vs = VarStore::new(device);
    let net = Network::new(&vs, &config).unwrap();
    let trainable: BTreeMap<String, Tensor> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    let mut opt = Adam::new(trainable, 1e-5);
    let x = Tensor::randn([batch, 6, size, size], (Kind::Float, device));
    let s = Tensor::zeros([batch, 4], (Kind::Float, device)).index_fill(
        1,
        &Tensor::from_slice(&[0i64]).to_device(device),
        1.0,
    );
    let y = smooth_labels(
        &Tensor::randint(config.classes, [batch], (Kind::Int64, device)),
        config.classes,
        0.0,
    );
    let mut times = Vec::new();
    for i in 0..steps + 2 {
        let t = Instant::now();
        let out = tch::autocast(precision.autocast(), || net.forward_t(&x, &s, true));
        let loss = total_loss(&out.logits, &out.cosines, &y, 0.2);
        (loss * scaler.scale()).backward();
        if std::env::var_os("NO_OPT").is_none() {
            scaler.step(&mut opt, 1e-4);
        }
        opt.zero_grad();
        if device.is_cuda() {
            tch::Cuda::synchronize(0);
        }
        if i >= 2 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let med = times[times.len() / 2];
    println!("{:.2}", batch as f64 / med);
}
