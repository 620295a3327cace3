//! The tch network: output shapes, the metric branch's cosines, train mode
//! updating batch-norm statistics, state-dict names, and checkpoints that
//! round-trip with the architecture in their metadata and refuse another
//! architecture, a wrong class count or a truncated file with a clear error.

use std::collections::BTreeMap;

use rcic_model::checkpoint::{load_into, save, Strictness};
use rcic_model::{Checkpoint, ConfigOverrides, ModelConfig, Network};
use tch::{Device, Kind, Tensor};

fn tiny(classes: i64) -> ModelConfig {
    ConfigOverrides {
        classes: Some(classes),
        embedding_size: Some(32),
        ..Default::default()
    }
    .apply(Some(&ModelConfig::from_backbone("densenet-tiny").unwrap()))
    .unwrap()
}

fn inputs(n: i64, size: i64) -> (Tensor, Tensor) {
    let x = Tensor::randn([n, 6, size, size], (Kind::Float, Device::Cpu));
    let s = Tensor::from_slice(&[0i64, 1, 2, 3])
        .narrow(0, 0, n)
        .one_hot(4)
        .to_kind(Kind::Float);
    (x, s)
}

#[test]
fn forward_shapes_cosines_and_names() {
    tch::manual_seed(0);
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs, &tiny(11)).unwrap();
    let (x, s) = inputs(4, 40);
    let out = net.forward_t(&x, &s, true);
    assert_eq!(out.logits.size(), [4, 11]);
    assert_eq!(out.cosines.size(), [4, 11]);
    assert_eq!(out.embedding.size(), [4, 32]);
    assert!(out.cosines.abs().max().double_value(&[]) <= 1.0 + 1e-5);
    let vars = vs.variables();
    for name in [
        "model.features.conv0.weight",
        "model.features.denseblock1.denselayer1.norm1.running_var",
        "model.features.transition3.conv.weight",
        "model.features.norm5.num_batches_tracked",
        "model.neck.0.weight",
        "model.neck.1.weight",
        "model.neck.5.running_mean",
        "model.head.weight",
        "model.head.bias",
        "model.arc_margin_product.weight",
    ] {
        assert!(vars.contains_key(name), "{name} missing");
    }
    assert!(!vars.contains_key("model.neck.1.bias"));
    assert_eq!(vars["model.features.conv0.weight"].size(), [16, 6, 7, 7]);
    assert_eq!(
        vars["model.features.norm5.num_batches_tracked"].int64_value(&[]),
        1,
        "train mode counts batches"
    );
    // Eval mode is deterministic and does not touch the statistics.
    let a = net.forward_t(&x, &s, false).logits;
    let b = net.forward_t(&x, &s, false).logits;
    assert!(a.equal(&b));
    assert_eq!(
        vars["model.features.norm5.num_batches_tracked"].int64_value(&[]),
        1
    );
}

#[test]
fn resnet_names_follow_the_reference_sequence() {
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let c = ModelConfig::from_backbone("resnet18").unwrap();
    let _ = Network::new(&vs, &c).unwrap();
    let vars = vs.variables();
    assert_eq!(vars["model.features.0.weight"].size(), [64, 6, 7, 7]);
    for n in [
        "model.features.1.running_mean",
        "model.features.4.0.conv1.weight",
        "model.features.5.0.downsample.0.weight",
        "model.features.7.1.bn2.bias",
    ] {
        assert!(vars.contains_key(n), "{n}");
    }
    assert_eq!(vars["model.neck.0.weight"].size(), [516]);
}

#[test]
fn head_hidden_layers_are_named_like_the_reference_sequence() {
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let c = ConfigOverrides {
        head_hidden: Some(vec![64, 48]),
        ..Default::default()
    }
    .apply(Some(&tiny(7)))
    .unwrap();
    let net = Network::new(&vs, &c).unwrap();
    let vars = vs.variables();
    assert_eq!(vars["model.head.0.weight"].size(), [64, 32]);
    assert!(vars.contains_key("model.head.1.running_var"));
    assert_eq!(vars["model.head.3.weight"].size(), [48, 64]);
    assert_eq!(vars["model.head.6.weight"].size(), [7, 48]);
    assert!(vars.contains_key("model.head.6.bias"));
    let (x, s) = inputs(2, 32);
    assert_eq!(net.forward_t(&x, &s, false).logits.size(), [2, 7]);
}

#[test]
fn checkpoints_round_trip_and_refuse_mismatches() {
    tch::manual_seed(1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let cfg = tiny(11);
    let net = Network::new(&vs, &cfg).unwrap();
    let (x, s) = inputs(2, 32);
    let _ = net.forward_t(&x, &s, true);
    let mut extra = BTreeMap::new();
    extra.insert("rcic.epoch".to_string(), "3".to_string());
    save(&path, &vs, &cfg, &extra).unwrap();

    let ck = Checkpoint::read(&path).unwrap();
    assert_eq!(ck.config.as_ref(), Some(&cfg));
    assert_eq!(ck.metadata["rcic.epoch"], "3");
    let vs2 = tch::nn::VarStore::new(Device::Cpu);
    let net2 = Network::new(&vs2, &cfg).unwrap();
    load_into(&vs2, &ck.tensors, &path, Strictness::Exact).unwrap();
    assert!(net
        .forward_t(&x, &s, false)
        .logits
        .equal(&net2.forward_t(&x, &s, false).logits));
    assert_eq!(
        vs2.variables()["model.neck.0.num_batches_tracked"].int64_value(&[]),
        1
    );

    // Wrong --classes.
    let vs3 = tch::nn::VarStore::new(Device::Cpu);
    let _ = Network::new(&vs3, &tiny(5)).unwrap();
    let e = load_into(&vs3, &ck.tensors, &path, Strictness::Exact)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("model.head.weight: file has shape [11, 32], model expects [5, 32]"),
        "{e}"
    );
    // Another architecture.
    let vs4 = tch::nn::VarStore::new(Device::Cpu);
    let _ = Network::new(&vs4, &ModelConfig::from_backbone("resnet18").unwrap()).unwrap();
    let e = load_into(&vs4, &ck.tensors, &path, Strictness::Exact)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing")
            && e.contains("model.features.0.weight")
            && e.contains("not a variable of this model"),
        "{e}"
    );
    // Truncated.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let e = Checkpoint::read(&path).unwrap_err().to_string();
    assert!(
        e.contains("truncated") && e.contains("model.safetensors"),
        "{e}"
    );
}

#[test]
fn computed_input_sizes_match_libtorch() {
    tch::manual_seed(0);
    for (blocks, sizes) in [(4usize, vec![29i64, 33, 40, 64]), (6, vec![125, 130])] {
        let mut c = tiny(5);
        if let rcic_model::BackboneKind::DenseNet(d) = &mut c.arch {
            d.block_config = vec![1; blocks];
        }
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let net = Network::new(&vs, &c).unwrap();
        let min = c.min_image_size().unwrap();
        assert_eq!(min, sizes[0], "{blocks} blocks");
        for s in sizes {
            let (x, _) = inputs(2, s);
            let f = net.features_t(&x, false);
            let side = c.feature_map_side(s).unwrap();
            assert_eq!(f.size()[2..], [side, side], "{blocks} blocks, {s} px");
        }
        // One pixel less: libtorch refuses it too.
        let (x, _) = inputs(2, min - 1);
        assert!(c.check_image_size(min - 1).is_err());
        let r =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| net.features_t(&x, false)));
        assert!(r.is_err(), "{blocks} blocks at {} px", min - 1);
    }
}
