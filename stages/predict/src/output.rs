//! The predictions Parquet (data-schemas/predictions.md): writing one,
//! reading one back, and merging shards into the single run's file (rows
//! sorted by (split, id_code, site), the order a single run writes).

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
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rcic_core::schema::predictions_schema;

use crate::error::PredictError;

/// Predictions in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    pub classes: usize,
    pub tta: String,
    pub model_key: String,
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
        let err = |m: String| PredictError::File {
            path: path.to_path_buf(),
            message: m,
        };
        let mut schema = predictions_schema(self.classes);
        schema
            .metadata
            .insert("classes".to_string(), self.classes.to_string());
        schema.metadata.insert("tta".to_string(), self.tta.clone());
        schema
            .metadata
            .insert("model_key".to_string(), self.model_key.clone());
        let schema = Arc::new(schema);
        let item = Arc::new(Field::new("item", arrow_schema::DataType::Float32, false));
        let logits = FixedSizeListArray::try_new(
            item,
            self.classes as i32,
            Arc::new(Float32Array::from(self.logits.clone())),
            None,
        )
        .map_err(|e| err(e.to_string()))?;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(self.split.clone())),
            Arc::new(StringArray::from(self.id_code.clone())),
            Arc::new(UInt8Array::from(self.site.clone())),
            Arc::new(logits),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| err(e.to_string()))?;
        let tmp = path.with_extension("parquet.tmp");
        let file = std::fs::File::create(&tmp)
            .map_err(|e| err(format!("cannot create {}: {e}", tmp.display())))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("level")))
            .build();
        let mut w =
            ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| err(e.to_string()))?;
        w.write(&batch).map_err(|e| err(e.to_string()))?;
        w.close().map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path)
            .map_err(|e| err(format!("cannot rename {}: {e}", tmp.display())))?;
        Ok(())
    }

    /// Reads a predictions file.
    pub fn read(path: &Path) -> Result<Self, PredictError> {
        let err = |m: String| PredictError::File {
            path: path.to_path_buf(),
            message: m,
        };
        let f = std::fs::File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
        let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(e.to_string()))?;
        let meta = b.schema().metadata().clone();
        let classes: usize = meta
            .get("classes")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| err("no classes metadata; expected a predictions file".into()))?;
        let mut p = Predictions {
            classes,
            tta: meta.get("tta").cloned().unwrap_or_default(),
            model_key: meta.get("model_key").cloned().unwrap_or_default(),
            split: vec![],
            id_code: vec![],
            site: vec![],
            logits: vec![],
        };
        for batch in b.build().map_err(|e| err(e.to_string()))? {
            let batch = batch.map_err(|e| err(e.to_string()))?;
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

    /// Merges shards: same classes, TTA and model; no site twice; rows sorted by (split, id_code, site).
    pub fn merge(parts: Vec<Predictions>) -> Result<Self, PredictError> {
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
