//! The safetensors file format (an 8-byte little-endian header length, a
//! JSON header naming each tensor's dtype, shape and byte range, optional
//! `__metadata__` strings, then the data), read and written here with
//! checks that name the file and what is wrong with it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::ModelError;
use crate::raw::{DType, RawTensor};

/// Tensors by name and the header's string metadata.
#[derive(Debug, Clone, Default)]
pub struct TensorFile {
    pub tensors: BTreeMap<String, RawTensor>,
    pub metadata: BTreeMap<String, String>,
}

/// Serialises tensors (sorted by name) with metadata.
pub fn to_bytes(
    tensors: &BTreeMap<String, RawTensor>,
    metadata: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert(
            "__metadata__".into(),
            serde_json::to_value(metadata).expect("json"),
        );
    }
    let mut offset = 0usize;
    for (name, t) in tensors {
        let end = offset + t.data.len();
        header.insert(name.clone(), serde_json::json!({ "dtype": t.dtype.name(), "shape": t.shape, "data_offsets": [offset, end] }));
        offset = end;
    }
    let mut json = serde_json::to_string(&header).expect("json").into_bytes();
    while (json.len() + 8) % 8 != 0 {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for t in tensors.values() {
        out.extend_from_slice(&t.data);
    }
    out
}

/// Writes atomically (temporary file, then rename).
pub fn write(
    path: &Path,
    tensors: &BTreeMap<String, RawTensor>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ModelError> {
    let tmp = path.with_extension("safetensors.tmp");
    std::fs::write(&tmp, to_bytes(tensors, metadata)).map_err(|e| ModelError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ModelError::io(path, e))
}

/// Whether bytes look like safetensors (a plausible header length followed by `{`).
pub fn sniff(bytes: &[u8]) -> bool {
    bytes.len() >= 9
        && u64::from_le_bytes(bytes[..8].try_into().unwrap()) < (1 << 30)
        && bytes[8] == b'{'
}

pub fn parse(path: &Path, bytes: &[u8]) -> Result<TensorFile, ModelError> {
    let bad = |m: String| ModelError::format(path, m);
    if bytes.len() < 8 {
        return Err(bad(format!(
            "{} bytes: too short for a safetensors file (truncated?)",
            bytes.len()
        )));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    if n > bytes.len() - 8 {
        return Err(bad(format!(
            "header says {n} header bytes but the file has {} (truncated, or not safetensors)",
            bytes.len() - 8
        )));
    }
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + n])
            .map_err(|e| bad(format!("header is not a JSON object: {e}")))?;
    let data = &bytes[8 + n..];
    let mut out = TensorFile::default();
    for (name, v) in header {
        if name == "__metadata__" {
            out.metadata = serde_json::from_value(v)
                .map_err(|e| bad(format!("__metadata__ must map strings to strings: {e}")))?;
            continue;
        }
        let dtype = v["dtype"]
            .as_str()
            .and_then(DType::from_name)
            .ok_or_else(|| bad(format!("tensor {name}: unknown dtype {}", v["dtype"])))?;
        let shape: Vec<i64> = serde_json::from_value(v["shape"].clone())
            .map_err(|e| bad(format!("tensor {name}: bad shape: {e}")))?;
        let offs: [usize; 2] = serde_json::from_value(v["data_offsets"].clone())
            .map_err(|e| bad(format!("tensor {name}: bad data_offsets: {e}")))?;
        if shape.iter().any(|&d| d < 0) {
            return Err(bad(format!(
                "tensor {name}: negative dimension in {shape:?}"
            )));
        }
        let want = shape.iter().product::<i64>() as usize * dtype.size();
        if offs[1] < offs[0] || offs[1] - offs[0] != want {
            return Err(bad(format!("tensor {name}: byte range {offs:?} does not hold {dtype:?} {shape:?} ({want} bytes)")));
        }
        if offs[1] > data.len() {
            return Err(bad(format!(
                "tensor {name}: data ends at byte {} but the file holds {} data bytes (truncated)",
                offs[1],
                data.len()
            )));
        }
        out.tensors.insert(
            name,
            RawTensor {
                dtype,
                shape,
                data: data[offs[0]..offs[1]].to_vec(),
            },
        );
    }
    Ok(out)
}

pub fn read(path: &Path) -> Result<TensorFile, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    parse(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_truncation() {
        let mut t = BTreeMap::new();
        t.insert(
            "a".to_string(),
            RawTensor {
                dtype: DType::F32,
                shape: vec![2],
                data: [1f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
            },
        );
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
    }
}
