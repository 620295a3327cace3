//! The published ImageNet weights of every torchvision backbone the train
//! stage offers: the address torchvision downloads each from (its
//! `IMAGENET1K_V1` weights, the ones `pretrained=True` gives) and the hash
//! prefix in its name. A test checks the table against the venv's
//! torchvision.

/// One published weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// torchvision's model name (the backbone without `mem-`).
    pub backbone: &'static str,
    /// The file name, `NAME-HASH.pth`.
    pub file: &'static str,
}

const BASE: &str = "https://download.pytorch.org/models/";

/// (backbone, file name) as torchvision publishes them.
pub const FILES: [(&str, &str); 8] = [
    ("densenet121", "densenet121-a639ec97.pth"),
    ("densenet161", "densenet161-8d451a50.pth"),
    ("densenet169", "densenet169-b2777c0a.pth"),
    ("densenet201", "densenet201-c1103571.pth"),
    ("resnet18", "resnet18-f37072fd.pth"),
    ("resnet34", "resnet34-b627a593.pth"),
    ("resnet50", "resnet50-0676ba61.pth"),
    ("resnext50_32x4d", "resnext50_32x4d-7cdf4587.pth"),
];

/// The weights of `backbone` (`mem-` variants share their base's), if
/// torchvision publishes any.
pub fn source(backbone: &str) -> Option<Source> {
    let base = backbone.strip_prefix("mem-").unwrap_or(backbone);
    FILES
        .iter()
        .find(|(b, _)| *b == base)
        .map(|&(backbone, file)| Source { backbone, file })
}

/// Backbones with published weights, comma-separated (for messages).
pub fn known() -> String {
    FILES.iter().map(|(b, _)| *b).collect::<Vec<_>>().join(", ")
}

impl Source {
    /// The address torchvision downloads it from.
    pub fn url(&self) -> String {
        format!("{BASE}{}", self.file)
    }

    /// The file name.
    pub fn file_name(&self) -> &'static str {
        self.file
    }

    /// The hash prefix torchvision puts in the name (`NAME-HASH.pth`).
    pub fn hash_prefix(&self) -> &'static str {
        crate::verify::hash_prefix(self.file_name()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backbone_and_its_mem_variant_has_a_file_with_a_hash() {
        for (b, f) in FILES {
            let s = source(b).unwrap();
            assert_eq!(s.file_name(), f);
            assert!(s.url().starts_with(BASE) && s.url().ends_with(f));
            assert_eq!(s.hash_prefix().len(), 8, "{f}");
            assert_eq!(source(&format!("mem-{b}")), Some(s));
        }
        assert!(source("densenet-tiny").is_none());
    }
}
