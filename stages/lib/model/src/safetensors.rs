//! Safetensors files (an 8-byte little-endian header length, a JSON header
//! naming each tensor's dtype, shape and byte range, optional `__metadata__`
//! strings, then the data), read and written with the `safetensors` crate;
//! its errors are told here in words that name the file and what is wrong.
//! One addition: the crate writes `__metadata__` in `HashMap` order, which
//! changes from one process to the next (safetensors issue #584), so the
//! header it writes is re-encoded with sorted keys: equal content, equal bytes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensorError, TensorInfo, TensorView};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::raw::{DType, RawTensor};

/// Tensors by name and the header's string metadata.
#[derive(Debug, Clone, Default)]
pub struct TensorFile {
    pub tensors: BTreeMap<String, RawTensor>,
    pub metadata: BTreeMap<String, String>,
}

/// The header with sorted keys (metadata first, then tensors by name).
#[derive(Serialize, Deserialize)]
struct Header {
    #[serde(
        rename = "__metadata__",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    tensors: BTreeMap<String, TensorInfo>,
}

fn to_crate(d: DType) -> Dtype {
    match d {
        DType::F64 => Dtype::F64,
        DType::F32 => Dtype::F32,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::I64 => Dtype::I64,
        DType::I32 => Dtype::I32,
        DType::I16 => Dtype::I16,
        DType::I8 => Dtype::I8,
        DType::U8 => Dtype::U8,
        DType::Bool => Dtype::BOOL,
    }
}

fn from_crate(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::F64 => DType::F64,
        Dtype::F32 => DType::F32,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::I64 => DType::I64,
        Dtype::I32 => DType::I32,
        Dtype::I16 => DType::I16,
        Dtype::I8 => DType::I8,
        Dtype::U8 => DType::U8,
        Dtype::BOOL => DType::Bool,
        _ => return None,
    })
}

/// Serialises tensors with metadata (the crate lays the data out by
/// descending alignment, then name; the header's keys are sorted).
pub fn to_bytes(
    tensors: &BTreeMap<String, RawTensor>,
    metadata: &BTreeMap<String, String>,
) -> Vec<u8> {
    let views = tensors.iter().map(|(name, t)| {
        let shape = t.shape.iter().map(|&d| d as usize).collect();
        let view = TensorView::new(to_crate(t.dtype), shape, &t.data)
            .unwrap_or_else(|e| panic!("tensor {name}: data does not match its shape: {e}"));
        (name, view)
    });
    let info: Option<HashMap<String, String>> =
        (!metadata.is_empty()).then(|| metadata.clone().into_iter().collect());
    let bytes = safetensors::serialize(views, &info).expect("safetensors serialises");
    sorted_header(&bytes)
}

/// The crate's file with its header re-encoded with sorted keys, padded
/// with spaces to a multiple of 8 bytes as the crate does.
fn sorted_header(bytes: &[u8]) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Header = serde_json::from_slice(&bytes[8..8 + n]).expect("the crate's header");
    let mut json = serde_json::to_vec(&header).expect("json");
    json.resize(json.len().next_multiple_of(8), b' ');
    let data = &bytes[8 + n..];
    let mut out = Vec::with_capacity(8 + json.len() + data.len());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(data);
    out
}

/// Whether bytes look like safetensors (a plausible header length followed by `{`).
pub fn sniff(bytes: &[u8]) -> bool {
    bytes.len() >= 9
        && u64::from_le_bytes(bytes[..8].try_into().unwrap()) < (1 << 30)
        && bytes[8..].starts_with(b"{")
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<TensorFile, ModelError> {
    let bad = |m: String| ModelError::format(path, m);
    let (n, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(explain(bytes, e)))?;
    let data = &bytes[8 + n..];
    let mut out = TensorFile {
        metadata: header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        tensors: BTreeMap::new(),
    };
    for (name, info) in header.tensors() {
        let dtype = from_crate(info.dtype).ok_or_else(|| {
            bad(format!(
                "tensor {name}: dtype {:?} is not supported",
                info.dtype
            ))
        })?;
        let (start, end) = info.data_offsets;
        let tensor = RawTensor {
            dtype,
            shape: info.shape.iter().map(|&d| d as i64).collect(),
            data: data[start..end].to_vec(),
        };
        out.tensors.insert(name, tensor);
    }
    Ok(out)
}

/// The crate's error in words (its own say only the variant's name).
fn explain(bytes: &[u8], e: SafeTensorError) -> String {
    let n = bytes
        .get(..8)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()));
    let header = || -> Result<Header, String> {
        let end = (n as usize)
            .checked_add(8)
            .ok_or("header length overflows")?;
        let json = bytes.get(8..end).ok_or("header cut")?;
        serde_json::from_slice(json).map_err(|e| e.to_string())
    };
    match e {
        SafeTensorError::HeaderTooSmall => format!(
            "{} bytes: too short for a safetensors file (truncated?)",
            bytes.len()
        ),
        SafeTensorError::InvalidHeaderLength => format!(
            "header says {n} header bytes but the file has {} (truncated, or not safetensors)",
            bytes.len() - 8
        ),
        SafeTensorError::HeaderTooLarge => {
            format!("header says {n} header bytes, over the format's 100 MB (not safetensors?)")
        }
        SafeTensorError::InvalidHeader => "header is not UTF-8 (not safetensors?)".into(),
        SafeTensorError::InvalidHeaderStart => {
            "header does not start with `{` (not safetensors?)".into()
        }
        SafeTensorError::InvalidHeaderDeserialization => format!(
            "header is not a JSON object of tensors (dtype, shape, data_offsets) and \
             __metadata__ strings: {}",
            header().err().unwrap_or_default()
        ),
        SafeTensorError::InvalidOffset(name) => {
            format!("tensor {name}: its data_offsets do not start where the previous tensor's end")
        }
        SafeTensorError::TensorInvalidInfo => {
            let wrong = header().ok().and_then(|h| {
                h.tensors.into_iter().find(|(_, t)| {
                    let want = t.shape.iter().product::<usize>() * t.dtype.size();
                    t.data_offsets.1.wrapping_sub(t.data_offsets.0) != want
                })
            });
            match wrong {
                Some((name, t)) => format!(
                    "tensor {name}: byte range {:?} does not hold {:?} {:?} ({} bytes)",
                    t.data_offsets,
                    t.dtype,
                    t.shape,
                    t.shape.iter().product::<usize>() * t.dtype.size()
                ),
                None => "a tensor's byte range does not hold its dtype and shape".into(),
            }
        }
        SafeTensorError::MetadataIncompleteBuffer => {
            let have = bytes.len() - 8 - n as usize;
            let end = header().ok().map_or(0, |h| {
                h.tensors
                    .values()
                    .map(|t| t.data_offsets.1)
                    .max()
                    .unwrap_or(0)
            });
            if end > have {
                format!("tensor data ends at byte {end} but the file holds {have} data bytes (truncated)")
            } else {
                format!(
                    "{} bytes after the last tensor's data (not one safetensors file?)",
                    have - end
                )
            }
        }
        SafeTensorError::ValidationOverflow => "a tensor's shape overflows its byte count".into(),
        other => format!("{other:?}"),
    }
}

pub fn read(path: &Path) -> Result<TensorFile, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    parse(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: &[f32]) -> RawTensor {
        RawTensor {
            dtype: DType::F32,
            shape: vec![v.len() as i64],
            data: v.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    #[test]
    fn round_trips_and_detects_truncation() {
        let mut t = BTreeMap::new();
        t.insert("a".to_string(), f32s(&[1.0, 2.0]));
        t.insert(
            "b".to_string(),
            RawTensor {
                dtype: DType::I64,
                shape: vec![],
                data: 7i64.to_le_bytes().to_vec(),
            },
        );
        let mut m = BTreeMap::new();
        m.insert("k".to_string(), "v".to_string());
        let bytes = to_bytes(&t, &m);
        assert!(sniff(&bytes));
        let p = Path::new("x.safetensors");
        let back = parse(p, &bytes).unwrap();
        assert_eq!(back.tensors, t);
        assert_eq!(back.metadata, m);
        let e = parse(p, &bytes[..bytes.len() - 3]).unwrap_err().to_string();
        assert!(
            e.contains("truncated") && e.contains("x.safetensors"),
            "{e}"
        );
        let e = parse(p, &bytes[..20]).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let mut long = bytes.clone();
        long.push(0);
        let e = parse(p, &long).unwrap_err().to_string();
        assert!(e.contains("1 bytes after the last tensor"), "{e}");
    }

    #[test]
    fn equal_content_gives_equal_bytes() {
        // The crate alone writes __metadata__ in HashMap order, which
        // differs between maps (and processes); the header is sorted.
        let t: BTreeMap<String, RawTensor> = (0..5)
            .map(|k| (format!("t{k}"), f32s(&[k as f32])))
            .collect();
        let m: BTreeMap<String, String> = (0..16)
            .map(|k| (format!("key{k}"), k.to_string()))
            .collect();
        let first = to_bytes(&t, &m);
        for _ in 0..8 {
            assert!(
                to_bytes(&t, &m) == first,
                "two writes of one content differ"
            );
        }
        let n = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
        assert_eq!((8 + n) % 8, 0);
        let json = std::str::from_utf8(&first[8..8 + n]).unwrap();
        let at = |k: &str| json.find(&format!("\"{k}\"")).unwrap();
        assert!(at("__metadata__") < at("key0") && at("key0") < at("key1"));
        assert!(at("key1") < at("key10") && at("key9") < at("t0"), "{json}");
        assert_eq!(parse(Path::new("x"), &first).unwrap().metadata, m);
        // No metadata: no __metadata__ key.
        let bare = to_bytes(&t, &BTreeMap::new());
        assert!(!String::from_utf8_lossy(&bare).contains("__metadata__"));
    }

    #[test]
    fn bad_headers_are_told_in_words() {
        let p = Path::new("y.safetensors");
        let file = |json: &str, data: usize| {
            let mut b = (json.len() as u64).to_le_bytes().to_vec();
            b.extend_from_slice(json.as_bytes());
            b.resize(b.len() + data, 0);
            b
        };
        let e = |b: Vec<u8>| parse(p, &b).unwrap_err().to_string();
        let msg = e(file(
            r#"{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#,
            4,
        ));
        assert!(
            msg.contains("y.safetensors") && msg.contains("F33"),
            "{msg}"
        );
        let msg = e(file(
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#,
            4,
        ));
        assert!(msg.contains("tensor w: byte range (0, 4)"), "{msg}");
        let msg = e(file(
            r#"{"w":{"dtype":"U32","shape":[1],"data_offsets":[0,4]}}"#,
            4,
        ));
        assert!(
            msg.contains("tensor w: dtype U32 is not supported"),
            "{msg}"
        );
        let msg = e(file(r#"{"__metadata__":{"k":1}}"#, 0));
        assert!(msg.contains("not a JSON object of tensors"), "{msg}");
        let msg = e(b"abc".to_vec());
        assert!(msg.contains("3 bytes: too short"), "{msg}");
    }
}
