//! The predictions Parquet (data-schemas/predictions.md): writing one
//! (through a temporary name, removed on failure), reading one back, and
//! merging shards into the single run's file: exactly one output of each
//! shard I of 0..N (a shard output names itself in its `shard` metadata),
//! rows sorted by (split, id_code, site), the order a single run writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, UInt8Type};
use arrow_array::{
    ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray, UInt8Array,
};
use arrow_schema::Field;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use rcic_cli::publish::AtomicFile;
use rcic_core::schema::predictions_schema;

use crate::error::PredictError;
use crate::sites::Shard;

/// The Parquet leaf of the logits (`fixed_size_list<float32>`: list, item).
pub const LOGITS_LEAF: [&str; 3] = ["logits", "list", "item"];

/// zstd level 3; the logits byte-stream-split (each float's four bytes
/// stored as four streams, no dictionary): their sign and exponent bytes then
/// compress well and their noisy low mantissa bytes are stored as they are
/// instead of being Huffman-coded, so the files are smaller (the tiny
/// model's logits: 0.62 of raw instead of 0.90 with zstd alone) and read
/// faster (the ensemble on RxRx1-sized random logits: about 0.25 s less per
/// run of two files).
pub fn writer_properties() -> WriterProperties {
    let logits = ColumnPath::new(LOGITS_LEAF.iter().map(|s| s.to_string()).collect());
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("level")))
        .set_column_dictionary_enabled(logits.clone(), false)
        .set_column_encoding(logits, Encoding::BYTE_STREAM_SPLIT)
        .build()
}

/// Predictions in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    pub classes: usize,
    pub tta: String,
    pub model_key: String,
    /// The `--shard I/N` this file holds (metadata `shard`); None for a
    /// single run's file and a merged one.
    pub shard: Option<Shard>,
    pub split: Vec<String>,
    pub id_code: Vec<String>,
    pub site: Vec<u8>,
    /// Row-major [rows, classes].
    pub logits: Vec<f32>,
}

impl Predictions {
    pub fn len(&self) -> usize {
        self.site.len()
    }

    pub fn is_empty(&self) -> bool {
        self.site.is_empty()
    }

    /// Writes the file (zstd), through a temporary name.
    pub fn write(&self, path: &Path) -> Result<(), PredictError> {
        let (arrow_err, parquet_err) = (arrow_err(path), parquet_err(path));
        let mut schema = predictions_schema(self.classes);
        schema
            .metadata
            .insert("classes".to_string(), self.classes.to_string());
        schema.metadata.insert("tta".to_string(), self.tta.clone());
        schema
            .metadata
            .insert("model_key".to_string(), self.model_key.clone());
        if let Some(sh) = self.shard {
            schema.metadata.insert("shard".to_string(), sh.to_string());
        }
        let schema = Arc::new(schema);
        let item = Arc::new(Field::new("item", arrow_schema::DataType::Float32, false));
        let logits = FixedSizeListArray::try_new(
            item,
            self.classes as i32,
            Arc::new(Float32Array::from(self.logits.clone())),
            None,
        )
        .map_err(&arrow_err)?;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(self.split.clone())),
            Arc::new(StringArray::from(self.id_code.clone())),
            Arc::new(UInt8Array::from(self.site.clone())),
            Arc::new(logits),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(&arrow_err)?;
        let mut tmp = AtomicFile::create(path)?;
        let props = writer_properties();
        let mut w = ArrowWriter::try_new(tmp.file(), schema, Some(props)).map_err(&parquet_err)?;
        w.write(&batch).map_err(&parquet_err)?;
        w.close().map_err(&parquet_err)?;
        tmp.commit()?;
        Ok(())
    }

    /// Reads a predictions file.
    pub fn read(path: &Path) -> Result<Self, PredictError> {
        let err = |m: String| PredictError::File {
            path: path.to_path_buf(),
            message: m,
        };
        let f = std::fs::File::open(path)
            .map_err(|e| rcic_cli::CliError::io(path, "cannot open", e))?;
        let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(parquet_err(path))?;
        let meta = b.schema().metadata().clone();
        let classes: usize = meta
            .get("classes")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| err("no classes metadata; expected a predictions file".into()))?;
        let mut p = Predictions {
            classes,
            tta: meta.get("tta").cloned().unwrap_or_default(),
            model_key: meta.get("model_key").cloned().unwrap_or_default(),
            shard: meta
                .get("shard")
                .map(|v| {
                    v.parse::<Shard>().map_err(|_| {
                        err(format!(
                            "metadata shard {v:?}: expected I/N with 0 <= I < N"
                        ))
                    })
                })
                .transpose()?,
            split: vec![],
            id_code: vec![],
            site: vec![],
            logits: vec![],
        };
        for batch in b.build().map_err(parquet_err(path))? {
            let batch = batch.map_err(arrow_err(path))?;
            let col = |n: &str| {
                batch
                    .column_by_name(n)
                    .cloned()
                    .ok_or_else(|| err(format!("no column {n}")))
            };
            p.split.extend(
                col("split")?
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap_or_default().to_string()),
            );
            p.id_code.extend(
                col("id_code")?
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap_or_default().to_string()),
            );
            p.site
                .extend(col("site")?.as_primitive::<UInt8Type>().values().iter());
            let l = col("logits")?;
            let l = l.as_fixed_size_list();
            p.logits
                .extend(l.values().as_primitive::<Float32Type>().values().iter());
        }
        Ok(p)
    }

    /// Merges shards, each given with a label naming it in messages (its
    /// path): exactly one output of each shard I of 0..N with one common N;
    /// same classes, TTA and model; no site twice; rows sorted by (split,
    /// id_code, site). The result is no shard (`shard` None).
    pub fn merge(parts: Vec<(String, Predictions)>) -> Result<Self, PredictError> {
        check_shard_set(&parts)?;
        let parts: Vec<Predictions> = parts.into_iter().map(|(_, p)| p).collect();
        let first = parts
            .first()
            .ok_or_else(|| PredictError::Flag("merge: no shards given".into()))?;
        let (classes, tta, model_key) = (first.classes, first.tta.clone(), first.model_key.clone());
        let mut rows: Vec<(String, u8, String, Vec<f32>)> = Vec::new();
        for p in &parts {
            if p.classes != classes || p.tta != tta || p.model_key != model_key {
                return Err(PredictError::Mismatch(format!(
                    "merge: shards of different runs (classes {} vs {classes}, tta {:?} vs {tta:?}, model {} vs {model_key})",
                    p.classes, p.tta, p.model_key
                )));
            }
            for i in 0..p.len() {
                rows.push((
                    p.id_code[i].clone(),
                    p.site[i],
                    p.split[i].clone(),
                    p.logits[i * classes..(i + 1) * classes].to_vec(),
                ));
            }
        }
        rows.sort_by(|a, b| (&a.2, &a.0, a.1).cmp(&(&b.2, &b.0, b.1)));
        if let Some(w) = rows
            .windows(2)
            .find(|w| w[0].0 == w[1].0 && w[0].1 == w[1].1 && w[0].2 == w[1].2)
        {
            return Err(PredictError::Mismatch(format!(
                "merge: site {} {} is in two shards",
                w[0].0, w[0].1
            )));
        }
        let mut out = Predictions {
            classes,
            tta,
            model_key,
            shard: None,
            split: vec![],
            id_code: vec![],
            site: vec![],
            logits: Vec::with_capacity(rows.len() * classes),
        };
        for (id, site, split, l) in rows {
            out.id_code.push(id);
            out.site.push(site);
            out.split.push(split);
            out.logits.extend(l);
        }
        Ok(out)
    }
}

/// Whether labelled parts are exactly the N shards of one `--shard I/N`
/// run: every part a shard output, one common N, each I of 0..N once;
/// otherwise an error naming the parts that are no shards, the shards given
/// twice and the shards missing.
pub fn check_shard_set(parts: &[(String, Predictions)]) -> Result<(), PredictError> {
    let bad = |m: String| Err(PredictError::Mismatch(format!("merge: {m}")));
    let Some((first, _)) = parts.first() else {
        return bad("no shards given".into());
    };
    let mut count: Option<(usize, &str)> = None;
    let mut by_index: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (label, p) in parts {
        let Some(sh) = p.shard else {
            return bad(format!(
                "{label} is not a shard output (no shard metadata); expected the outputs of rcic-predict --shard I/N"
            ));
        };
        match count {
            None => count = Some((sh.count, label)),
            Some((n, other)) if n != sh.count => {
                return bad(format!(
                    "{label} is shard {sh} but {other} is a shard of {n}; expected the shards of one --shard I/N run"
                ));
            }
            _ => {}
        }
        by_index.entry(sh.index).or_default().push(label);
    }
    let n = count.map_or(0, |(n, _)| n);
    let mut problems = Vec::new();
    for (i, labels) in &by_index {
        if labels.len() > 1 {
            problems.push(format!(
                "shard {i}/{n} given {} times ({})",
                labels.len(),
                labels.join(", ")
            ));
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "shard{} {} missing",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        ));
    }
    if !problems.is_empty() {
        return bad(format!(
            "{}; expected each of the {n} shards of the run of {first} exactly once",
            problems.join("; ")
        ));
    }
    Ok(())
}

/// Attaches the file to a Parquet error (the error stays the source).
fn parquet_err(path: &Path) -> impl Fn(parquet::errors::ParquetError) -> PredictError + '_ {
    move |cause| PredictError::Parquet {
        path: path.to_path_buf(),
        cause,
    }
}

/// Attaches the file to an Arrow error (the error stays the source).
fn arrow_err(path: &Path) -> impl Fn(arrow_schema::ArrowError) -> PredictError + '_ {
    move |cause| PredictError::Arrow {
        path: path.to_path_buf(),
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(shard: Option<(usize, usize)>) -> Predictions {
        Predictions {
            classes: 1,
            tta: "1".into(),
            model_key: "k".into(),
            shard: shard.map(|(index, count)| Shard { index, count }),
            split: vec![],
            id_code: vec![],
            site: vec![],
            logits: vec![],
        }
    }

    fn check(parts: &[(&str, Option<(usize, usize)>)]) -> Result<(), String> {
        let parts: Vec<(String, Predictions)> = parts
            .iter()
            .map(|(l, s)| (l.to_string(), part(*s)))
            .collect();
        check_shard_set(&parts).map_err(|e| e.to_string())
    }

    #[test]
    fn a_failed_write_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("p.parquet");
        std::fs::create_dir(&target).unwrap();
        assert!(part(Some((0, 1))).write(&target).is_err());
        let ok = d.path().join("q.parquet");
        part(Some((1, 2))).write(&ok).unwrap();
        assert_eq!(Predictions::read(&ok).unwrap(), part(Some((1, 2))));
        let mut names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["p.parquet", "q.parquet"]);
    }

    #[test]
    fn a_merge_needs_each_shard_exactly_once() {
        assert!(check(&[
            ("a", Some((1, 3))),
            ("b", Some((0, 3))),
            ("c", Some((2, 3)))
        ])
        .is_ok());
        assert!(check(&[("a", Some((0, 1)))]).is_ok());
        let e = check(&[("a", Some((0, 3))), ("b", Some((1, 3)))]).unwrap_err();
        assert!(e.contains("shard 2/3 missing"), "{e}");
        let e = check(&[
            ("a", Some((0, 3))),
            ("b", Some((0, 3))),
            ("c", Some((1, 3))),
        ])
        .unwrap_err();
        assert!(
            e.contains("shard 0/3 given 2 times (a, b)") && e.contains("shard 2/3 missing"),
            "{e}"
        );
        let e = check(&[("a", Some((0, 2))), ("b", Some((1, 3)))]).unwrap_err();
        assert!(e.contains("b is shard 1/3 but a is a shard of 2"), "{e}");
        let e = check(&[("a", Some((0, 2))), ("b", None)]).unwrap_err();
        assert!(e.contains("b is not a shard output"), "{e}");
    }
}
