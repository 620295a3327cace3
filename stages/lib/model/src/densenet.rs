//! DenseNet feature extractor in torchvision's layout and parameter names
//! (`conv0`, `norm0`, `denseblockB.denselayerL.{norm1,conv1,norm2,conv2}`,
//! `transitionB.{norm,conv}`, `norm5`), with a 6-channel first convolution.
//! As in the reference, the features end at `norm5`: no ReLU before pooling.
//! Transitions average with the full `avg_pool2d` call (a true mean; tch's
//! `avg_pool2d_default` passes divisor_override = 1 and sums).

use tch::nn::Path;
use tch::Tensor;

use crate::config::{DenseNetConfig, IN_CHANNELS};
use crate::layers::{BatchNorm, Conv2d, ConvInit, ConvSpec};

#[derive(Debug)]
struct DenseLayer {
    norm1: BatchNorm,
    conv1: Conv2d,
    norm2: BatchNorm,
    conv2: Conv2d,
}

#[derive(Debug)]
struct Transition {
    norm: BatchNorm,
    conv: Conv2d,
}

#[derive(Debug)]
pub struct DenseNet {
    conv0: Conv2d,
    norm0: BatchNorm,
    blocks: Vec<(Vec<DenseLayer>, Option<Transition>)>,
    norm5: BatchNorm,
}

impl DenseNet {
    /// Builds under `p` (the reference's `model.features`).
    pub fn new(p: &Path, c: &DenseNetConfig, bn_mom: f64) -> Self {
        let conv0 = Conv2d::new(
            &(p / "conv0"),
            ConvSpec::new(IN_CHANNELS, c.num_init_features, 7, 2, 3, ConvInit::Default),
        );
        let norm0 = BatchNorm::new(&(p / "norm0"), c.num_init_features, bn_mom);
        let mut ch = c.num_init_features;
        let mut blocks = Vec::new();
        for (b, &n) in c.block_config.iter().enumerate() {
            let bp = p / format!("denseblock{}", b + 1);
            let layers = (0..n)
                .map(|l| {
                    let lp = &bp / format!("denselayer{}", l + 1);
                    let cin = ch + l * c.growth_rate;
                    let mid = c.bn_size * c.growth_rate;
                    DenseLayer {
                        norm1: BatchNorm::new(&(&lp / "norm1"), cin, bn_mom),
                        conv1: Conv2d::new(
                            &(&lp / "conv1"),
                            ConvSpec::new(cin, mid, 1, 1, 0, ConvInit::KaimingFanIn),
                        ),
                        norm2: BatchNorm::new(&(&lp / "norm2"), mid, bn_mom),
                        conv2: Conv2d::new(
                            &(&lp / "conv2"),
                            ConvSpec::new(mid, c.growth_rate, 3, 1, 1, ConvInit::KaimingFanIn),
                        ),
                    }
                })
                .collect();
            ch += n * c.growth_rate;
            let transition = (b + 1 < c.block_config.len()).then(|| {
                let tp = p / format!("transition{}", b + 1);
                let t = Transition {
                    norm: BatchNorm::new(&(&tp / "norm"), ch, bn_mom),
                    conv: Conv2d::new(
                        &(&tp / "conv"),
                        ConvSpec::new(ch, ch / 2, 1, 1, 0, ConvInit::KaimingFanIn),
                    ),
                };
                ch /= 2;
                t
            });
            blocks.push((layers, transition));
        }
        let norm5 = BatchNorm::new(&(p / "norm5"), ch, bn_mom);
        Self {
            conv0,
            norm0,
            blocks,
            norm5,
        }
    }

    /// [N, 6, H, W] -> [N, C, H/32, W/32], ending at norm5 (no ReLU).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let x = self.norm0.forward_t(&self.conv0.forward(x), train).relu();
        let mut x = x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        for (layers, transition) in &self.blocks {
            let mut feats = vec![x];
            for l in layers {
                let input = Tensor::cat(&feats, 1);
                let h = l.conv1.forward(&l.norm1.forward_t(&input, train).relu());
                let h = l.conv2.forward(&l.norm2.forward_t(&h, train).relu());
                feats.push(h);
            }
            x = Tensor::cat(&feats, 1);
            if let Some(t) = transition {
                let h = t.conv.forward(&t.norm.forward_t(&x, train).relu());
                x = h.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None);
            }
        }
        self.norm5.forward_t(&x, train)
    }
}
