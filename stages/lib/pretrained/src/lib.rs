//! rcic-pretrained: the ImageNet weights the reference starts every backbone
//! from (docs/method.md section 4), as torchvision publishes them. This
//! crate knows each file's address and name ([`source`]), where a copy is
//! kept ([`cache`]), and checks a copy against the hash torchvision puts in
//! the file name ([`verify`]). Downloading lives in the `rcic-weights` tool;
//! training only finds and checks (`rcic-train --pretrained imagenet`), so a
//! run without the file stops before any work with a message that says
//! which file, from where, and how to pass it.

pub mod cache;
pub mod error;
pub mod source;
pub mod verify;

pub use cache::{find, CacheDirs};
pub use error::PretrainedError;
pub use source::{source, Source};
pub use verify::{check_name, sha256_file, verify};
