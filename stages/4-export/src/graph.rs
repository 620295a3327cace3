//! The network as an ONNX graph, written from the same `ModelConfig` the
//! tch module is built from, with the checkpoint's tensors as initializers
//! under their state-dict names. Batch norms are inference-mode
//! BatchNormalization nodes (running statistics, eps 1e-5); the metric
//! branch is training-only and not written.

use std::collections::{BTreeMap, BTreeSet};

use rcic_model::config::{BackboneKind, DenseNetConfig, ModelConfig, ResBlock, ResNetConfig};
use rcic_model::layers::BN_EPS;
use rcic_model::{DType, RawTensor};
use rcic_onnx::{DataType, GraphBuilder, Tensor};

use crate::error::ExportError;

/// Writes layers, adding each weight as an initializer on first use.
pub struct NetWriter<'a> {
    pub b: &'a mut GraphBuilder,
    tensors: &'a BTreeMap<String, RawTensor>,
    fp16: bool,
    added: BTreeSet<String>,
}

impl<'a> NetWriter<'a> {
    pub fn new(
        b: &'a mut GraphBuilder,
        tensors: &'a BTreeMap<String, RawTensor>,
        fp16: bool,
    ) -> Self {
        Self {
            b,
            tensors,
            fp16,
            added: BTreeSet::new(),
        }
    }

    /// The initializer `name` (converted to the compute precision).
    fn w(&mut self, name: &str) -> Result<String, ExportError> {
        if self.added.insert(name.to_string()) {
            let t = self
                .tensors
                .get(name)
                .ok_or_else(|| ExportError::MissingTensor(name.into()))?;
            let init = if self.fp16 {
                let h = t.to_tch().to_kind(tch::Kind::Half);
                Tensor::raw(
                    name,
                    &t.shape,
                    DataType::Float16,
                    RawTensor::from_tch(&h).data,
                )
            } else if t.dtype == DType::F32 {
                Tensor::raw(name, &t.shape, DataType::Float, t.data.clone())
            } else {
                Tensor::f32(name, &t.shape, &t.to_f32())
            };
            self.b.constant(init);
        }
        Ok(name.to_string())
    }

    fn conv(
        &mut self,
        x: &str,
        p: &str,
        kernel: i64,
        stride: i64,
        pad: i64,
        groups: i64,
    ) -> Result<String, ExportError> {
        let w = self.w(&format!("{p}.weight"))?;
        Ok(self.b.conv(p, x, &w, None, kernel, stride, pad, groups))
    }

    fn bn(&mut self, x: &str, p: &str) -> Result<String, ExportError> {
        let [s, b, m, v] =
            ["weight", "bias", "running_mean", "running_var"].map(|k| self.w(&format!("{p}.{k}")));
        Ok(self.b.batch_norm(p, x, &s?, &b?, &m?, &v?, BN_EPS as f32))
    }

    fn linear(&mut self, x: &str, p: &str, bias: bool) -> Result<String, ExportError> {
        let w = self.w(&format!("{p}.weight"))?;
        let b = if bias {
            Some(self.w(&format!("{p}.bias"))?)
        } else {
            None
        };
        Ok(self.b.linear(p, x, &w, b.as_deref()))
    }

    fn densenet(&mut self, x: &str, c: &DenseNetConfig) -> Result<String, ExportError> {
        let f = "model.features";
        let x = self.conv(x, &format!("{f}.conv0"), 7, 2, 3, 1)?;
        let x = self.bn(&x, &format!("{f}.norm0"))?;
        let x = self.b.relu(&x);
        let mut x = self.b.max_pool(&x, 3, 2, 1);
        for (bi, &n) in c.block_config.iter().enumerate() {
            let mut feats = vec![x.clone()];
            for l in 0..n {
                let p = format!("{f}.denseblock{}.denselayer{}", bi + 1, l + 1);
                let refs: Vec<&str> = feats.iter().map(String::as_str).collect();
                let input = self.b.concat(&refs, 1);
                let h = self.bn(&input, &format!("{p}.norm1"))?;
                let h = self.b.relu(&h);
                let h = self.conv(&h, &format!("{p}.conv1"), 1, 1, 0, 1)?;
                let h = self.bn(&h, &format!("{p}.norm2"))?;
                let h = self.b.relu(&h);
                feats.push(self.conv(&h, &format!("{p}.conv2"), 3, 1, 1, 1)?);
            }
            let refs: Vec<&str> = feats.iter().map(String::as_str).collect();
            x = self.b.concat(&refs, 1);
            if bi + 1 < c.block_config.len() {
                let p = format!("{f}.transition{}", bi + 1);
                let h = self.bn(&x, &format!("{p}.norm"))?;
                let h = self.b.relu(&h);
                let h = self.conv(&h, &format!("{p}.conv"), 1, 1, 0, 1)?;
                x = self.b.avg_pool(&h, 2, 2);
            }
        }
        self.bn(&x, &format!("{f}.norm5"))
    }

    fn resnet(&mut self, x: &str, c: &ResNetConfig) -> Result<String, ExportError> {
        let f = "model.features";
        let x = self.conv(x, &format!("{f}.0"), 7, 2, 3, 1)?;
        let x = self.bn(&x, &format!("{f}.1"))?;
        let x = self.b.relu(&x);
        let mut x = self.b.max_pool(&x, 3, 2, 1);
        let expansion = c.expansion();
        let mut inplanes = 64;
        for (li, &n) in c.layers.iter().enumerate() {
            let planes = 64 << li;
            for bi in 0..n {
                let p = format!("{f}.{}.{bi}", 4 + li);
                let stride = if bi == 0 && li > 0 { 2 } else { 1 };
                let mut h = x.clone();
                let convs: Vec<(i64, i64, i64, i64)> = match c.block {
                    ResBlock::Basic => vec![(3, stride, 1, 1), (3, 1, 1, 1)],
                    ResBlock::Bottleneck => {
                        vec![(1, 1, 0, 1), (3, stride, 1, c.groups), (1, 1, 0, 1)]
                    }
                };
                for (i, &(k, s, pad, g)) in convs.iter().enumerate() {
                    h = self.conv(&h, &format!("{p}.conv{}", i + 1), k, s, pad, g)?;
                    h = self.bn(&h, &format!("{p}.bn{}", i + 1))?;
                    if i + 1 < convs.len() {
                        h = self.b.relu(&h);
                    }
                }
                let identity = if bi == 0 && (stride != 1 || inplanes != planes * expansion) {
                    let d = self.conv(&x, &format!("{p}.downsample.0"), 1, stride, 0, 1)?;
                    self.bn(&d, &format!("{p}.downsample.1"))?
                } else {
                    x.clone()
                };
                inplanes = planes * expansion;
                let sum = self.b.add(&h, &identity);
                x = self.b.relu(&sum);
            }
        }
        Ok(x)
    }

    /// image [B, 6, H, W], cell type [B, T] (both in the compute precision) -> logits [B, classes].
    pub fn network(
        &mut self,
        c: &ModelConfig,
        image: &str,
        cell_type: &str,
    ) -> Result<String, ExportError> {
        let feats = match &c.arch {
            BackboneKind::DenseNet(d) => self.densenet(image, d)?,
            BackboneKind::ResNet(r) => self.resnet(image, r)?,
        };
        let pooled = self.b.global_avg_pool(&feats);
        let mut x = self.b.flatten(&pooled, 1);
        if c.concat_cell_type {
            x = self.b.concat(&[&x, cell_type], 1);
        }
        let x = self.bn(&x, "model.neck.0")?;
        let x = self.linear(&x, "model.neck.1", false)?;
        let x = self.b.relu(&x);
        let x = self.bn(&x, "model.neck.3")?;
        let x = self.linear(&x, "model.neck.4", false)?;
        let mut x = self.bn(&x, "model.neck.5")?;
        for i in 0..c.head_hidden.len() {
            x = self.linear(&x, &format!("model.head.{}", 3 * i), false)?;
            x = self.bn(&x, &format!("model.head.{}", 3 * i + 1))?;
            x = self.b.relu(&x);
        }
        let head = if c.head_hidden.is_empty() {
            "model.head".to_string()
        } else {
            format!("model.head.{}", 3 * c.head_hidden.len())
        };
        self.linear(&x, &head, true)
    }
}
