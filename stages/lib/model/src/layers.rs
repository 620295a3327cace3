//! The layers the networks are made of, with PyTorch's parameter names,
//! buffers (`running_mean`, `running_var`, `num_batches_tracked`) and
//! initialisations, so that state dicts map one to one.

use tch::nn::{Init, Path};
use tch::{Kind, Tensor};

/// How a convolution's weight is drawn when not loaded.
#[derive(Debug, Clone, Copy)]
pub enum ConvInit {
    /// PyTorch's default (kaiming_uniform with a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    Default,
    /// torchvision's kaiming_normal_(relu) over fan_in (DenseNet).
    KaimingFanIn,
    /// torchvision's kaiming_normal_(relu) over fan_out (ResNet).
    KaimingFanOut,
}

/// A 2-d convolution (`weight`, optional `bias`).
#[derive(Debug)]
pub struct Conv2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub stride: i64,
    pub padding: i64,
    pub groups: i64,
}

/// Convolution shape and options.
#[derive(Debug, Clone, Copy)]
pub struct ConvSpec {
    pub cin: i64,
    pub cout: i64,
    pub kernel: i64,
    pub stride: i64,
    pub padding: i64,
    pub groups: i64,
    pub bias: bool,
    pub init: ConvInit,
}

impl ConvSpec {
    pub fn new(
        cin: i64,
        cout: i64,
        kernel: i64,
        stride: i64,
        padding: i64,
        init: ConvInit,
    ) -> Self {
        Self {
            cin,
            cout,
            kernel,
            stride,
            padding,
            groups: 1,
            bias: false,
            init,
        }
    }
}

impl Conv2d {
    pub fn new(p: &Path, s: ConvSpec) -> Self {
        let fan_in = s.cin / s.groups * s.kernel * s.kernel;
        let fan_out = s.cout / s.groups * s.kernel * s.kernel;
        let w_init = match s.init {
            ConvInit::Default => uniform_bound(fan_in),
            ConvInit::KaimingFanIn => Init::Randn {
                mean: 0.0,
                stdev: (2.0 / fan_in as f64).sqrt(),
            },
            ConvInit::KaimingFanOut => Init::Randn {
                mean: 0.0,
                stdev: (2.0 / fan_out as f64).sqrt(),
            },
        };
        let weight = p.var(
            "weight",
            &[s.cout, s.cin / s.groups, s.kernel, s.kernel],
            w_init,
        );
        let bias = s
            .bias
            .then(|| p.var("bias", &[s.cout], uniform_bound(fan_in)));
        Self {
            weight,
            bias,
            stride: s.stride,
            padding: s.padding,
            groups: s.groups,
        }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.conv2d(
            &self.weight,
            self.bias.as_ref(),
            [self.stride, self.stride],
            [self.padding, self.padding],
            [1, 1],
            self.groups,
        )
    }
}

/// PyTorch's default Linear/Conv init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
fn uniform_bound(fan_in: i64) -> Init {
    let b = 1.0 / (fan_in as f64).sqrt();
    Init::Uniform { lo: -b, up: b }
}

/// Batch norm over dim 1 (BatchNorm1d and BatchNorm2d alike), eps 1e-5.
#[derive(Debug)]
pub struct BatchNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub running_mean: Tensor,
    pub running_var: Tensor,
    pub num_batches_tracked: Tensor,
    pub momentum: f64,
}

pub const BN_EPS: f64 = 1e-5;

impl BatchNorm {
    pub fn new(p: &Path, channels: i64, momentum: f64) -> Self {
        Self {
            weight: p.var("weight", &[channels], Init::Const(1.0)),
            bias: p.var("bias", &[channels], Init::Const(0.0)),
            running_mean: p.zeros_no_train("running_mean", &[channels]),
            running_var: p.ones_no_train("running_var", &[channels]),
            num_batches_tracked: p.add(
                "num_batches_tracked",
                Tensor::zeros([], (Kind::Int64, p.device())),
                false,
            ),
            momentum,
        }
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        if train {
            tch::no_grad(|| {
                let mut n = self.num_batches_tracked.shallow_clone();
                let _ = n.g_add_scalar_(1);
            });
        }
        x.batch_norm(
            Some(&self.weight),
            Some(&self.bias),
            Some(&self.running_mean),
            Some(&self.running_var),
            train,
            self.momentum,
            BN_EPS,
            tch::Cuda::cudnn_is_available(),
        )
    }
}

/// A fully connected layer (`weight` [out, in], optional `bias`).
#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    pub fn new(p: &Path, cin: i64, cout: i64, bias: bool) -> Self {
        Self {
            weight: p.var("weight", &[cout, cin], uniform_bound(cin)),
            bias: bias.then(|| p.var("bias", &[cout], uniform_bound(cin))),
        }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, self.bias.as_ref())
    }
}
