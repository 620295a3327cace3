//! Reader of PyTorch's `torch.save(state_dict)` files without Python: the
//! zip format (PyTorch >= 1.6: `<name>/data.pkl` plus one stored entry per
//! storage) and the legacy format (consecutive pickles followed by raw
//! storages, as in torchvision's older `densenet161-8d451a50.pth`). Only
//! what a state dict needs is understood: dicts, tuples, strings, numbers,
//! `OrderedDict`, `_rebuild_tensor_v2`/`_rebuild_parameter` and storages.
//! No crate serves: serde-pickle cannot follow torch's storages; tch loads only libtorch's files.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::ModelError;
use crate::raw::{DType, RawTensor};

/// Reads a `.pth` state dict: tensors by name (non-tensor entries ignored).
pub fn read(path: &Path) -> Result<BTreeMap<String, RawTensor>, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    parse(&bytes)
        .map_err(|m| ModelError::format(path, format!("not a readable PyTorch state dict: {m}")))
}

pub fn parse(bytes: &[u8]) -> Result<BTreeMap<String, RawTensor>, String> {
    if bytes.starts_with(b"PK\x03\x04") {
        parse_zip(bytes)
    } else if bytes.first() == Some(&0x80) {
        parse_legacy(bytes)
    } else {
        Err("neither a zip archive (torch.save) nor a legacy pickle".into())
    }
}

// ---------------------------------------------------------------- zip

fn u16_at(b: &[u8], o: usize) -> Result<u16, String> {
    b.get(o..o + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| format!("zip structure runs past the end at byte {o} (truncated?)"))
}
fn u32_at(b: &[u8], o: usize) -> Result<u32, String> {
    b.get(o..o + 4)
        .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
        .ok_or_else(|| format!("zip structure runs past the end at byte {o} (truncated?)"))
}
fn u64_at(b: &[u8], o: usize) -> Result<u64, String> {
    b.get(o..o + 8)
        .map(|s| u64::from_le_bytes(s.try_into().unwrap()))
        .ok_or_else(|| format!("zip structure runs past the end at byte {o} (truncated?)"))
}

/// Stored (uncompressed) entries of a zip archive by name.
fn zip_entries(b: &[u8]) -> Result<BTreeMap<String, &[u8]>, String> {
    let lo = b.len().saturating_sub(22 + 65535);
    let eocd = (lo..b.len().saturating_sub(21))
        .rev()
        .find(|&i| b[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or("no zip end-of-central-directory record (truncated?)")?;
    let mut count = u16_at(b, eocd + 10)? as u64;
    let mut cd = u32_at(b, eocd + 16)? as u64;
    if (count == 0xffff || cd == 0xffff_ffff) && eocd >= 20 && u32_at(b, eocd - 20)? == 0x0706_4b50
    {
        let z = u64_at(b, eocd - 20 + 8)? as usize;
        if u32_at(b, z)? != 0x0606_4b50 {
            return Err("bad zip64 end-of-central-directory record".into());
        }
        count = u64_at(b, z + 32)?;
        cd = u64_at(b, z + 48)?;
    }
    let mut out = BTreeMap::new();
    let mut o = cd as usize;
    for _ in 0..count {
        if u32_at(b, o)? != 0x0201_4b50 {
            return Err(format!("bad central directory entry at byte {o}"));
        }
        let method = u16_at(b, o + 10)?;
        let mut size = u32_at(b, o + 20)? as u64;
        let mut usize_ = u32_at(b, o + 24)? as u64;
        let (nlen, elen, clen) = (
            u16_at(b, o + 28)? as usize,
            u16_at(b, o + 30)? as usize,
            u16_at(b, o + 32)? as usize,
        );
        let mut local = u32_at(b, o + 42)? as u64;
        let name = String::from_utf8_lossy(
            b.get(o + 46..o + 46 + nlen)
                .ok_or("truncated central directory")?,
        )
        .into_owned();
        // zip64 extra field: the 32-bit fields that overflowed, in order.
        let mut e = o + 46 + nlen;
        let eend = e + elen;
        while e + 4 <= eend {
            let (id, len) = (u16_at(b, e)?, u16_at(b, e + 2)? as usize);
            if id == 1 {
                let mut f = e + 4;
                for v in [&mut usize_, &mut size, &mut local] {
                    if *v == 0xffff_ffff {
                        *v = u64_at(b, f)?;
                        f += 8;
                    }
                }
            }
            e += 4 + len;
        }
        if method != 0 {
            return Err(format!("entry {name} is compressed (method {method}); torch.save stores entries uncompressed"));
        }
        let l = local as usize;
        if u32_at(b, l)? != 0x0403_4b50 {
            return Err(format!("entry {name}: bad local header at byte {l}"));
        }
        let start = l + 30 + u16_at(b, l + 26)? as usize + u16_at(b, l + 28)? as usize;
        let data = b.get(start..start + size as usize).ok_or_else(|| {
            format!("entry {name}: data runs past the end of the file (truncated)")
        })?;
        out.insert(name, data);
        o += 46 + nlen + elen + clen;
    }
    Ok(out)
}

fn parse_zip(b: &[u8]) -> Result<BTreeMap<String, RawTensor>, String> {
    let entries = zip_entries(b)?;
    let pkl = entries
        .keys()
        .find(|k| k.ends_with("/data.pkl") || *k == "data.pkl")
        .ok_or("archive has no data.pkl")?
        .clone();
    let prefix = &pkl[..pkl.len() - "data.pkl".len()];
    let (value, _) = unpickle(entries[&pkl])?;
    state_dict(value, |key, dtype, numel| {
        let name = format!("{prefix}data/{key}");
        let data = entries
            .get(&name)
            .ok_or_else(|| format!("storage {name} missing from the archive"))?;
        if data.len() < numel * dtype.size() {
            return Err(format!(
                "storage {name}: {} bytes, expected {}",
                data.len(),
                numel * dtype.size()
            ));
        }
        Ok(data.to_vec())
    })
}

fn parse_legacy(b: &[u8]) -> Result<BTreeMap<String, RawTensor>, String> {
    let mut o = 0;
    let next = |o: &mut usize| -> Result<Value, String> {
        let (v, n) = unpickle(&b[*o..])?;
        *o += n;
        Ok(v)
    };
    match next(&mut o)? {
        Value::Int(0x1950a86a20f9469cfc6c) => {}
        _ => return Err("legacy file without PyTorch's magic number".into()),
    }
    let _protocol = next(&mut o)?;
    let _sys_info = next(&mut o)?;
    let value = next(&mut o)?;
    let keys = match next(&mut o)? {
        Value::List(k) => k,
        _ => return Err("legacy file: expected the list of storage keys".into()),
    };
    // Storages follow in key order, each as an i64 element count and the bytes.
    let mut sizes: BTreeMap<String, DType> = BTreeMap::new();
    collect_storages(&value, &mut sizes);
    let mut storages: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for k in keys {
        let Value::Str(k) = k else {
            return Err("legacy file: storage key is not a string".into());
        };
        let dtype = *sizes
            .get(&k)
            .ok_or_else(|| format!("legacy file: storage {k} is not used by any tensor"))?;
        let n = u64_at(b, o)
            .map_err(|_| format!("storage {k}: file ends before its size (truncated)"))?
            as usize;
        o += 8;
        let len = n * dtype.size();
        let data = b
            .get(o..o + len)
            .ok_or_else(|| format!("storage {k}: file ends inside its {len} bytes (truncated)"))?;
        storages.insert(k, data.to_vec());
        o += len;
    }
    state_dict(value, |key, _, _| {
        storages
            .get(key)
            .cloned()
            .ok_or_else(|| format!("storage {key} missing"))
    })
}

fn collect_storages(v: &Value, out: &mut BTreeMap<String, DType>) {
    match v {
        Value::Tensor(t) => {
            out.insert(t.key.clone(), t.dtype);
        }
        Value::Dict(items) => items.iter().for_each(|(_, v)| collect_storages(v, out)),
        _ => {}
    }
}

/// Turns the unpickled top-level dict into tensors, reading storages with `load`.
fn state_dict(
    value: Value,
    load: impl Fn(&str, DType, usize) -> Result<Vec<u8>, String>,
) -> Result<BTreeMap<String, RawTensor>, String> {
    let Value::Dict(items) = value else {
        return Err("the pickled object is not a dict (a state dict was expected)".into());
    };
    let mut cache: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (k, v) in items {
        let (Value::Str(name), Value::Tensor(t)) = (k, v) else {
            continue;
        };
        let esize = t.dtype.size();
        let need = if t.shape.contains(&0) {
            0
        } else {
            t.offset
                + t.shape
                    .iter()
                    .zip(&t.stride)
                    .map(|(&d, &s)| (d as usize - 1) * s as usize)
                    .sum::<usize>()
                + 1
        };
        if !cache.contains_key(&t.key) {
            cache.insert(t.key.clone(), load(&t.key, t.dtype, need)?);
        }
        let storage = &cache[&t.key];
        if storage.len() < need * esize {
            return Err(format!(
                "tensor {name}: storage {} holds {} bytes, the tensor needs {}",
                t.key,
                storage.len(),
                need * esize
            ));
        }
        let numel: usize = t.shape.iter().product::<i64>() as usize;
        let mut data = Vec::with_capacity(numel * esize);
        let mut idx = vec![0i64; t.shape.len()];
        for _ in 0..numel {
            let e = t.offset
                + idx
                    .iter()
                    .zip(&t.stride)
                    .map(|(&i, &s)| (i * s) as usize)
                    .sum::<usize>();
            data.extend_from_slice(&storage[e * esize..(e + 1) * esize]);
            for d in (0..idx.len()).rev() {
                idx[d] += 1;
                if idx[d] < t.shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        out.insert(
            name,
            RawTensor {
                dtype: t.dtype,
                shape: t.shape,
                data,
            },
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------- pickle

#[derive(Debug, Clone)]
struct TensorRef {
    key: String,
    dtype: DType,
    offset: usize,
    shape: Vec<i64>,
    stride: Vec<i64>,
}

#[derive(Debug, Clone)]
#[allow(dead_code)] // Bool/Float payloads are parsed but never needed
enum Value {
    None,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String, String),
    Storage(String, DType),
    Tensor(TensorRef),
    /// Anything else a REDUCE made; kept opaque.
    Object,
    Mark,
}

fn storage_dtype(class: &str) -> Option<DType> {
    Some(match class {
        "FloatStorage" => DType::F32,
        "DoubleStorage" => DType::F64,
        "HalfStorage" => DType::F16,
        "BFloat16Storage" => DType::BF16,
        "LongStorage" => DType::I64,
        "IntStorage" => DType::I32,
        "ShortStorage" => DType::I16,
        "CharStorage" => DType::I8,
        "ByteStorage" => DType::U8,
        "BoolStorage" => DType::Bool,
        _ => return None,
    })
}

fn ints(v: &Value) -> Result<Vec<i64>, String> {
    match v {
        Value::Tuple(xs) | Value::List(xs) => xs
            .iter()
            .map(|x| {
                if let Value::Int(i) = x {
                    Ok(*i as i64)
                } else {
                    Err("expected an int".to_string())
                }
            })
            .collect(),
        _ => Err("expected a tuple of ints".into()),
    }
}

fn reduce(f: Value, args: Value) -> Result<Value, String> {
    let Value::Global(m, n) = &f else {
        return Ok(Value::Object);
    };
    let Value::Tuple(a) = args else {
        return Ok(Value::Object);
    };
    Ok(match (m.as_str(), n.as_str()) {
        ("collections", "OrderedDict") => Value::Dict(Vec::new()),
        ("torch._utils", "_rebuild_tensor_v2") | ("torch._utils", "_rebuild_tensor") => {
            let (Some(Value::Storage(key, dtype)), Some(Value::Int(off))) = (a.first(), a.get(1))
            else {
                return Err(
                    "_rebuild_tensor: expected (storage, offset, size, stride, ...)".into(),
                );
            };
            let shape = ints(a.get(2).ok_or("_rebuild_tensor: no size")?)?;
            let stride = ints(a.get(3).ok_or("_rebuild_tensor: no stride")?)?;
            if shape.len() != stride.len() || shape.iter().chain(&stride).any(|&v| v < 0) {
                return Err(format!(
                    "_rebuild_tensor: bad size {shape:?} / stride {stride:?}"
                ));
            }
            Value::Tensor(TensorRef {
                key: key.clone(),
                dtype: *dtype,
                offset: *off as usize,
                shape,
                stride,
            })
        }
        ("torch._utils", "_rebuild_parameter")
        | ("torch._utils", "_rebuild_parameter_with_state") => {
            a.into_iter().next().unwrap_or(Value::None)
        }
        _ => Value::Object,
    })
}

fn persistent(pid: Value) -> Result<Value, String> {
    let Value::Tuple(t) = pid else {
        return Err("persistent id is not a tuple".into());
    };
    match (t.first(), t.get(1), t.get(2)) {
        (Some(Value::Str(s)), Some(Value::Global(_, class)), Some(key)) if s == "storage" => {
            let dtype =
                storage_dtype(class).ok_or_else(|| format!("unsupported storage type {class}"))?;
            let key = match key {
                Value::Str(k) => k.clone(),
                Value::Int(i) => i.to_string(),
                _ => return Err("storage key is neither a string nor an int".into()),
            };
            Ok(Value::Storage(key, dtype))
        }
        _ => Err(
            "unsupported persistent id (expected ('storage', type, key, location, size))".into(),
        ),
    }
}

/// Unpickles one object; returns it and the bytes consumed.
fn unpickle(b: &[u8]) -> Result<(Value, usize), String> {
    let mut u = Unpickler {
        b,
        i: 0,
        stack: Vec::new(),
        memo: BTreeMap::new(),
    };
    loop {
        let op = u.take(1)?[0];
        match op {
            0x80 => {
                u.take(1)?;
            }
            0x95 => {
                u.take(8)?;
            }
            b'.' => return Ok((u.stack.pop().ok_or("empty pickle")?, u.i)),
            _ => {
                let done = u.constant(op)? || u.memo_op(op)? || u.container(op)? || u.call(op)?;
                if !done {
                    return Err(format!(
                        "unsupported pickle opcode 0x{op:02x} at byte {}",
                        u.i - 1
                    ));
                }
            }
        }
    }
}

/// The pickle machine: the bytes, the read position, the stack and the
/// memo. Each group of opcodes is one method that says whether `op` was
/// one of its own.
struct Unpickler<'a> {
    b: &'a [u8],
    i: usize,
    stack: Vec<Value>,
    memo: BTreeMap<u32, Value>,
}

fn eof() -> String {
    "pickle ends early (truncated file?)".to_string()
}

impl<'a> Unpickler<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self.b.get(self.i..self.i + n).ok_or_else(eof)?;
        self.i += n;
        Ok(s)
    }

    fn pop(&mut self) -> Result<Value, String> {
        self.stack
            .pop()
            .ok_or_else(|| "pickle stack underflow".to_string())
    }

    /// The items above the topmost mark, the mark removed.
    fn pop_mark(&mut self) -> Result<Vec<Value>, String> {
        let m = self
            .stack
            .iter()
            .rposition(|v| matches!(v, Value::Mark))
            .ok_or("pickle: no mark")?;
        let items = self.stack.split_off(m + 1);
        self.stack.pop();
        Ok(items)
    }

    /// A newline-terminated text argument.
    fn line(&mut self) -> Result<String, String> {
        let b = &self.b[self.i..];
        let end = b.iter().position(|&c| c == b'\n').ok_or_else(eof)?;
        let s = String::from_utf8_lossy(&b[..end]).into_owned();
        self.i += end + 1;
        Ok(s)
    }

    /// Constants: empty containers, None, booleans, the mark, numbers,
    /// strings and globals.
    fn constant(&mut self, op: u8) -> Result<bool, String> {
        let v = match op {
            b'}' => Value::Dict(Vec::new()),
            b']' => Value::List(Vec::new()),
            b')' => Value::Tuple(Vec::new()),
            b'N' => Value::None,
            0x88 => Value::Bool(true),
            0x89 => Value::Bool(false),
            b'(' => Value::Mark,
            b'K' => Value::Int(self.take(1)?[0] as i128),
            b'M' => {
                let s = self.take(2)?;
                Value::Int(u16::from_le_bytes([s[0], s[1]]) as i128)
            }
            b'J' => {
                let s = self.take(4)?;
                Value::Int(i32::from_le_bytes(s.try_into().unwrap()) as i128)
            }
            0x8a => {
                let n = self.take(1)?[0] as usize;
                let s = self.take(n)?;
                if n > 16 {
                    return Err("pickle: integer too long".into());
                }
                let mut buf = if s.last().is_some_and(|&x| x & 0x80 != 0) {
                    [0xffu8; 16]
                } else {
                    [0u8; 16]
                };
                buf[..n].copy_from_slice(s);
                Value::Int(i128::from_le_bytes(buf))
            }
            b'G' => {
                let s = self.take(8)?;
                Value::Float(f64::from_be_bytes(s.try_into().unwrap()))
            }
            b'X' | b'T' => {
                let s = self.take(4)?;
                let n = u32::from_le_bytes(s.try_into().unwrap()) as usize;
                Value::Str(String::from_utf8_lossy(self.take(n)?).into_owned())
            }
            0x8c | b'U' => {
                let n = self.take(1)?[0] as usize;
                Value::Str(String::from_utf8_lossy(self.take(n)?).into_owned())
            }
            b'c' => {
                let (m, n) = (self.line()?, self.line()?);
                Value::Global(m, n)
            }
            0x93 => {
                let n = self.pop()?;
                let m = self.pop()?;
                match (m, n) {
                    (Value::Str(m), Value::Str(n)) => Value::Global(m, n),
                    _ => return Err("pickle: STACK_GLOBAL needs two strings".into()),
                }
            }
            _ => return Ok(false),
        };
        self.stack.push(v);
        Ok(true)
    }

    /// Memo puts and gets.
    fn memo_op(&mut self, op: u8) -> Result<bool, String> {
        let put = match op {
            b'q' => Some(self.take(1)?[0] as u32),
            b'r' => Some(u32::from_le_bytes(self.take(4)?.try_into().unwrap())),
            0x94 => Some(self.memo.len() as u32),
            _ => None,
        };
        if let Some(k) = put {
            let top = self.stack.last().ok_or("pickle: memo of empty stack")?;
            self.memo.insert(k, top.clone());
            return Ok(true);
        }
        let get = match op {
            b'h' => self.take(1)?[0] as u32,
            b'j' => u32::from_le_bytes(self.take(4)?.try_into().unwrap()),
            _ => return Ok(false),
        };
        let v = self
            .memo
            .get(&get)
            .ok_or("pickle: unknown memo key")?
            .clone();
        self.stack.push(v);
        Ok(true)
    }

    /// Tuples, lists and dicts built from the stack, and appends to them.
    fn container(&mut self, op: u8) -> Result<bool, String> {
        match op {
            b't' => {
                let items = self.pop_mark()?;
                self.stack.push(Value::Tuple(items))
            }
            0x85 => {
                let a = self.pop()?;
                self.stack.push(Value::Tuple(vec![a]))
            }
            0x86 => {
                let b2 = self.pop()?;
                let a = self.pop()?;
                self.stack.push(Value::Tuple(vec![a, b2]))
            }
            0x87 => {
                let c = self.pop()?;
                let b2 = self.pop()?;
                let a = self.pop()?;
                self.stack.push(Value::Tuple(vec![a, b2, c]))
            }
            b'l' => {
                let items = self.pop_mark()?;
                self.stack.push(Value::List(items))
            }
            b'd' => {
                let items = self.pop_mark()?;
                self.stack.push(Value::Dict(pairs(items)))
            }
            b'a' => {
                let v = self.pop()?;
                if let Some(Value::List(l)) = self.stack.last_mut() {
                    l.push(v);
                }
            }
            b'e' => {
                let items = self.pop_mark()?;
                if let Some(Value::List(l)) = self.stack.last_mut() {
                    l.extend(items);
                }
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                if let Some(Value::Dict(d)) = self.stack.last_mut() {
                    d.push((k, v));
                }
            }
            b'u' => {
                let items = self.pop_mark()?;
                if let Some(Value::Dict(d)) = self.stack.last_mut() {
                    d.extend(pairs(items));
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Calls (REDUCE), persistent ids (torch's storages) and BUILD.
    fn call(&mut self, op: u8) -> Result<bool, String> {
        match op {
            b'R' => {
                let args = self.pop()?;
                let f = self.pop()?;
                self.stack.push(reduce(f, args)?)
            }
            b'Q' => {
                let pid = self.pop()?;
                self.stack.push(persistent(pid)?)
            }
            b'b' => {
                self.pop()?; // BUILD state (e.g. a state dict's _metadata): not needed
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Alternate keys and values as pairs (an odd last item is dropped).
fn pairs(items: Vec<Value>) -> Vec<(Value, Value)> {
    let mut d = Vec::new();
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        d.push((k, v));
    }
    d
}
