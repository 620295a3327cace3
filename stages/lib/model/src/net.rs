//! The whole network realised in tch: backbone features, global average
//! pooling, cell-type concatenation, neck (the embedding), head (logits) and
//! the metric branch (cosines to the class weights). Variables live under
//! `model.` so their names are the reference's state-dict names.

use tch::nn::{Init, Path, VarStore};
use tch::Tensor;

use crate::config::{BackboneKind, ModelConfig};
use crate::densenet::DenseNet;
use crate::error::ModelError;
use crate::layers::{BatchNorm, Linear};
use crate::resnet::ResNet;

#[derive(Debug)]
enum Backbone {
    DenseNet(DenseNet),
    ResNet(ResNet),
}

/// One hidden layer of the head: Linear (no bias) -> BatchNorm1d -> ReLU.
#[derive(Debug)]
struct Hidden {
    linear: Linear,
    bn: BatchNorm,
}

#[derive(Debug)]
pub struct Network {
    pub config: ModelConfig,
    backbone: Backbone,
    neck: (BatchNorm, Linear, BatchNorm, Linear, BatchNorm),
    hidden: Vec<Hidden>,
    head: Linear,
    /// The metric branch's class weights [classes, embedding].
    pub arc_weight: Tensor,
}

/// What one forward pass gives.
#[derive(Debug)]
pub struct Output {
    pub logits: Tensor,
    /// Cosine of the embedding to every class weight (the ArcFace input).
    pub cosines: Tensor,
    pub embedding: Tensor,
}

/// PyTorch's F.normalize along dim 1: x / max(||x||, 1e-12).
pub fn l2_normalize(x: &Tensor) -> Tensor {
    let n = x
        .norm_scalaropt_dim(2, [1i64].as_slice(), true)
        .clamp_min(1e-12);
    x / n
}

impl Network {
    /// Creates the variables in `vs` (under `model.`) with fresh initialisation.
    pub fn new(vs: &VarStore, config: &ModelConfig) -> Result<Self, ModelError> {
        config.validate()?;
        let root = vs.root() / "model";
        Ok(Self::build(&root, config))
    }

    fn build(p: &Path, c: &ModelConfig) -> Self {
        let fp = p / "features";
        let m = c.bn_momentum;
        let backbone = match &c.arch {
            BackboneKind::DenseNet(d) => Backbone::DenseNet(DenseNet::new(&fp, d, m)),
            BackboneKind::ResNet(r) => Backbone::ResNet(ResNet::new(&fp, r, m)),
        };
        let np = p / "neck";
        let (fin, e) = (c.neck_inputs(), c.embedding_size);
        let neck = (
            BatchNorm::new(&(&np / "0"), fin, m),
            Linear::new(&(&np / "1"), fin, e, false),
            BatchNorm::new(&(&np / "3"), e, m),
            Linear::new(&(&np / "4"), e, e, false),
            BatchNorm::new(&(&np / "5"), e, m),
        );
        let hp = p / "head";
        let mut hidden = Vec::new();
        let mut cin = e;
        for (i, &h) in c.head_hidden.iter().enumerate() {
            hidden.push(Hidden {
                linear: Linear::new(&(&hp / (3 * i).to_string()), cin, h, false),
                bn: BatchNorm::new(&(&hp / (3 * i + 1).to_string()), h, m),
            });
            cin = h;
        }
        let head = if c.head_hidden.is_empty() {
            Linear::new(&hp, cin, c.classes, true)
        } else {
            Linear::new(
                &(&hp / (3 * c.head_hidden.len()).to_string()),
                cin,
                c.classes,
                true,
            )
        };
        let b = 1.0 / (e as f64).sqrt();
        let arc_weight = (p / "arc_margin_product").var(
            "weight",
            &[c.classes, e],
            Init::Uniform { lo: -b, up: b },
        );
        Self {
            config: c.clone(),
            backbone,
            neck,
            hidden,
            head,
            arc_weight,
        }
    }

    /// Backbone output before pooling.
    pub fn features_t(&self, x: &Tensor, train: bool) -> Tensor {
        match &self.backbone {
            Backbone::DenseNet(d) => d.forward_t(x, train),
            Backbone::ResNet(r) => r.forward_t(x, train),
        }
    }

    /// Globally average-pooled features [N, C].
    pub fn pooled_t(&self, x: &Tensor, train: bool) -> Tensor {
        self.features_t(x, train)
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
    }

    /// The embedding (neck output) of images [N, 6, H, W] with one-hot cell types [N, T].
    pub fn embed_t(&self, x: &Tensor, cell_type: &Tensor, train: bool) -> Tensor {
        let mut f = self.pooled_t(x, train);
        if self.config.concat_cell_type {
            f = Tensor::cat(&[f, cell_type.to_kind(x.kind())], 1);
        }
        let (b0, l1, b3, l4, b5) = &self.neck;
        let h = l1.forward(&b0.forward_t(&f, train)).relu();
        let h = l4.forward(&b3.forward_t(&h, train));
        b5.forward_t(&h, train)
    }

    /// Head logits of an embedding.
    pub fn classify_t(&self, embedding: &Tensor, train: bool) -> Tensor {
        let mut h = embedding.shallow_clone();
        for l in &self.hidden {
            h = l.bn.forward_t(&l.linear.forward(&h), train).relu();
        }
        self.head.forward(&h)
    }

    /// Cosine similarity of the embedding to each class weight.
    pub fn metric(&self, embedding: &Tensor) -> Tensor {
        l2_normalize(embedding).linear::<Tensor>(
            &l2_normalize(&self.arc_weight.to_kind(embedding.kind())),
            None,
        )
    }

    /// Logits, cosines and embedding.
    pub fn forward_t(&self, x: &Tensor, cell_type: &Tensor, train: bool) -> Output {
        let embedding = self.embed_t(x, cell_type, train);
        Output {
            logits: self.classify_t(&embedding, train),
            cosines: self.metric(&embedding),
            embedding,
        }
    }
}
