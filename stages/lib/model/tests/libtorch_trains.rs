//! Proves the native libtorch is linked and works: a small conv net runs
//! forward, backward and Adam steps on the CPU, and the loss falls.

use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

#[test]
fn conv_net_forward_backward_adam_step_reduces_loss() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let net = nn::seq_t()
        .add(nn::conv2d(
            &root / "c1",
            6,
            8,
            3,
            nn::ConvConfig {
                padding: 1,
                ..Default::default()
            },
        ))
        .add(nn::batch_norm2d(&root / "bn", 8, Default::default()))
        .add_fn(|x| x.relu().adaptive_avg_pool2d([1, 1]).flatten(1, -1))
        .add(nn::linear(&root / "fc", 8, 3, Default::default()));
    let mut opt = nn::Adam::default().build(&vs, 1e-2).unwrap();

    // Three classes told apart by the mean of one channel: learnable in a few steps.
    let labels = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2, 0, 1]);
    let x = Tensor::randn([8, 6, 16, 16], (Kind::Float, Device::Cpu));
    let x = x + labels.to_kind(Kind::Float).view([8, 1, 1, 1]) * 2.0;

    let first = net.forward_t(&x, true).cross_entropy_for_logits(&labels);
    let first_value = first.double_value(&[]);
    assert!(first_value.is_finite());
    let grads_before: f64 = vs
        .trainable_variables()
        .iter()
        .map(|v| v.abs().sum(Kind::Double).double_value(&[]))
        .sum();
    opt.backward_step(&first);
    let grads_after: f64 = vs
        .trainable_variables()
        .iter()
        .map(|v| v.abs().sum(Kind::Double).double_value(&[]))
        .sum();
    assert_ne!(
        grads_before, grads_after,
        "an Adam step must change the weights"
    );

    let mut last_value = first_value;
    for _ in 0..30 {
        let loss = net.forward_t(&x, true).cross_entropy_for_logits(&labels);
        last_value = loss.double_value(&[]);
        opt.backward_step(&loss);
    }
    assert!(
        last_value < first_value * 0.5,
        "loss {first_value} -> {last_value}"
    );
}
