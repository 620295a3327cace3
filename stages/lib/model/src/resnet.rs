//! ResNet / ResNeXt feature extractor in torchvision's layout, wrapped as
//! the reference does: a sequence whose parameter names are `0` (the
//! 6-channel conv), `1` (bn1), and `4`..`7` (layer1..layer4, blocks
//! `conv1/bn1/conv2/bn2[/conv3/bn3]` and `downsample.0/1`). 2 and 3 are the
//! ReLU and max pool, which hold no parameters.

use tch::nn::Path;
use tch::Tensor;

use crate::config::{ResBlock, ResNetConfig, IN_CHANNELS};
use crate::layers::{BatchNorm, Conv2d, ConvInit, ConvSpec};

#[derive(Debug)]
struct Block {
    convs: Vec<(Conv2d, BatchNorm)>,
    downsample: Option<(Conv2d, BatchNorm)>,
}

#[derive(Debug)]
pub struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    layers: Vec<Vec<Block>>,
}

impl ResNet {
    /// Builds under `p` (the reference's `model.features`).
    pub fn new(p: &Path, c: &ResNetConfig, bn_mom: f64) -> Self {
        let k = ConvInit::KaimingFanOut;
        let conv1 = Conv2d::new(
            &(p / "0"),
            ConvSpec::new(IN_CHANNELS, 64, 7, 2, 3, ConvInit::Default),
        );
        let bn1 = BatchNorm::new(&(p / "1"), 64, bn_mom);
        let expansion = c.expansion();
        let mut inplanes = 64;
        let mut layers = Vec::new();
        for (li, &n) in c.layers.iter().enumerate() {
            let planes = 64 << li;
            let lp = p / (4 + li).to_string();
            let mut blocks = Vec::new();
            for b in 0..n {
                let bp = &lp / b.to_string();
                let stride = if b == 0 && li > 0 { 2 } else { 1 };
                let conv_bn = |i: usize, spec: ConvSpec| {
                    (
                        Conv2d::new(&(&bp / format!("conv{i}")), spec),
                        BatchNorm::new(&(&bp / format!("bn{i}")), spec.cout, bn_mom),
                    )
                };
                let convs = match c.block {
                    ResBlock::Basic => vec![
                        conv_bn(1, ConvSpec::new(inplanes, planes, 3, stride, 1, k)),
                        conv_bn(2, ConvSpec::new(planes, planes, 3, 1, 1, k)),
                    ],
                    ResBlock::Bottleneck => {
                        let width = planes * c.width_per_group / 64 * c.groups;
                        vec![
                            conv_bn(1, ConvSpec::new(inplanes, width, 1, 1, 0, k)),
                            conv_bn(
                                2,
                                ConvSpec {
                                    groups: c.groups,
                                    ..ConvSpec::new(width, width, 3, stride, 1, k)
                                },
                            ),
                            conv_bn(3, ConvSpec::new(width, planes * expansion, 1, 1, 0, k)),
                        ]
                    }
                };
                let downsample =
                    (b == 0 && (stride != 1 || inplanes != planes * expansion)).then(|| {
                        let dp = &bp / "downsample";
                        (
                            Conv2d::new(
                                &(&dp / "0"),
                                ConvSpec::new(inplanes, planes * expansion, 1, stride, 0, k),
                            ),
                            BatchNorm::new(&(&dp / "1"), planes * expansion, bn_mom),
                        )
                    });
                inplanes = planes * expansion;
                blocks.push(Block { convs, downsample });
            }
            layers.push(blocks);
        }
        Self { conv1, bn1, layers }
    }

    /// [N, 6, H, W] -> [N, C, H/32, W/32] (layer4's output, after its ReLU).
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let x = self.bn1.forward_t(&self.conv1.forward(x), train).relu();
        let mut x = x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        for layer in &self.layers {
            for b in layer {
                let mut h = x.shallow_clone();
                let last = b.convs.len() - 1;
                for (i, (conv, bn)) in b.convs.iter().enumerate() {
                    h = bn.forward_t(&conv.forward(&h), train);
                    if i < last {
                        h = h.relu();
                    }
                }
                let identity = match &b.downsample {
                    Some((conv, bn)) => bn.forward_t(&conv.forward(&x), train),
                    None => x,
                };
                x = (h + identity).relu();
            }
        }
        x
    }
}
