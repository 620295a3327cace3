//! Which image sizes a network accepts, computed from its configuration
//! alone: the backbone's strided convolutions and poolings shrink the image,
//! and libtorch aborts (with a C++ stack trace through tch's panicking API)
//! when a pooling's output would be empty. Deep DenseNets (many blocks, one
//! halving transition between each two) need large images; the check runs
//! before training so a bad `--block-config` fails with a sentence instead.

use crate::config::{BackboneKind, ModelConfig};
use crate::error::ModelError;

/// libtorch's convolution output side, or None when the kernel is larger
/// than the padded input.
fn conv(side: i64, kernel: i64, stride: i64, pad: i64) -> Option<i64> {
    let padded = side.checked_add(2 * pad)?;
    (padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

/// libtorch's pooling output side (floor mode), or None when it is below 1.
fn pool(side: i64, kernel: i64, stride: i64, pad: i64) -> Option<i64> {
    let out = (side.checked_add(2 * pad)? - kernel).div_euclid(stride) + 1;
    (out >= 1).then_some(out)
}

impl ModelConfig {
    /// Side of the backbone's feature map for `image` x `image` inputs, or
    /// the name of the layer whose output would be empty.
    pub fn feature_map_side(&self, image: i64) -> Result<i64, String> {
        let stem = |s: i64, conv_name: &str, pool_name: &str| -> Result<i64, String> {
            let s = conv(s, 7, 2, 3).ok_or_else(|| conv_name.to_string())?;
            pool(s, 3, 2, 1).ok_or_else(|| pool_name.to_string())
        };
        match &self.arch {
            BackboneKind::DenseNet(d) => {
                let mut s = stem(image, "conv0", "pool0")?;
                for t in 1..d.block_config.len() {
                    s = pool(s, 2, 2, 0).ok_or_else(|| format!("transition{t}"))?;
                }
                Ok(s)
            }
            BackboneKind::ResNet(_) => {
                let mut s = stem(image, "conv1", "maxpool")?;
                for l in 2..=4 {
                    s = conv(s, 3, 2, 1).ok_or_else(|| format!("layer{l}"))?;
                }
                Ok(s)
            }
        }
    }

    /// The smallest image side the network accepts (None: no size does).
    pub fn min_image_size(&self) -> Option<i64> {
        const MAX: i64 = 1 << 40;
        if self.feature_map_side(MAX).is_err() {
            return None;
        }
        // Accepted sizes are monotone: every layer's output grows with its input.
        let (mut lo, mut hi) = (0, MAX);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.feature_map_side(mid).is_ok() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }

    /// Fails, naming the backbone, its block config and the smallest size it
    /// accepts, when `image` x `image` inputs are too small for the network.
    pub fn check_image_size(&self, image: i64) -> Result<(), ModelError> {
        let Err(layer) = self.feature_map_side(image) else {
            return Ok(());
        };
        let shape = match &self.arch {
            BackboneKind::DenseNet(d) => format!(
                " (block config {}: {} blocks, each but the last halving the image)",
                d.block_config
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                d.block_config.len()
            ),
            BackboneKind::ResNet(_) => String::new(),
        };
        let need = match self.min_image_size() {
            Some(m) => format!("it needs images of at least {m} px"),
            None => "no image size fits it".to_string(),
        };
        Err(ModelError::Config(format!(
            "backbone {}{shape} does not accept {image} px images (the feature map vanishes at {layer}); {need}",
            self.backbone
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(blocks: usize) -> ModelConfig {
        let mut c = ModelConfig::from_backbone("densenet-tiny").unwrap();
        if let BackboneKind::DenseNet(d) = &mut c.arch {
            d.block_config = vec![2; blocks];
        }
        c
    }

    #[test]
    fn sizes_follow_the_strides() {
        // 32 px: conv0 16, pool0 8, three transitions 4, 2, 1.
        assert_eq!(tiny(4).feature_map_side(32), Ok(1));
        assert_eq!(tiny(4).feature_map_side(512), Ok(16));
        assert_eq!(tiny(4).min_image_size(), Some(29));
        assert_eq!(tiny(4).feature_map_side(28), Err("transition3".into()));
        // 2^(blocks - 1) after pool0: 4 * 2^7 - 3.
        assert_eq!(tiny(8).min_image_size(), Some(509));
        let r = ModelConfig::from_backbone("resnet18").unwrap();
        assert_eq!(r.min_image_size(), Some(1));
        assert_eq!(r.feature_map_side(224), Ok(7));
    }

    #[test]
    fn too_small_names_backbone_blocks_and_sizes() {
        let e = tiny(8).check_image_size(32).unwrap_err().to_string();
        for part in ["densenet-tiny", "2,2,2,2,2,2,2,2", "32 px", "509 px"] {
            assert!(e.contains(part), "{part}: {e}");
        }
        assert!(tiny(8).check_image_size(509).is_ok());
    }
}
