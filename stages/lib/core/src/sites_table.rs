//! The dataset index as an Arrow table and Parquet file (`sites.parquet`),
//! the metadata artifact later stages and outside tools (pyarrow, pandas)
//! read to know what every site is.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int32Array, RecordBatch, StringArray, UInt8Array};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{CoreError, Result};
use crate::index::DatasetIndex;
use crate::schema::sites_schema;

/// One row per site, columns of [`sites_schema`]; `dataset_key` goes into
/// the schema metadata.
pub fn sites_batch(index: &DatasetIndex, dataset_key: &str) -> Result<RecordBatch> {
    let sites: Vec<_> = index.sites().collect();
    let s = |f: &dyn Fn(&crate::index::Site) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(sites.iter().map(f)))
    };
    let exp = |site: &crate::index::Site| index.experiments[site.well.experiment].clone();
    let columns: Vec<ArrayRef> = vec![
        s(&|x| index.id_code(x.well)),
        s(&|x| exp(x).name),
        s(&|x| exp(x).cell_type),
        s(&|x| exp(x).split.as_str().to_string()),
        Arc::new(UInt8Array::from_iter_values(
            sites.iter().map(|x| x.well.plate),
        )),
        s(&|x| x.well.well.to_string()),
        Arc::new(UInt8Array::from_iter_values(sites.iter().map(|x| x.site))),
        s(&|x| x.well.well_type.as_str().to_string()),
        Arc::new(Int32Array::from_iter(
            sites.iter().map(|x| x.well.sirna.map(|v| v as i32)),
        )),
        Arc::new(Int32Array::from_iter(
            sites.iter().map(|x| x.well.label.map(|v| v as i32)),
        )),
        s(&|x| {
            match x.well.label_source {
                crate::index::LabelSource::Csv => "csv",
                crate::index::LabelSource::Alias => "alias",
                crate::index::LabelSource::None => "none",
            }
            .to_string()
        }),
    ];
    let mut schema = sites_schema();
    schema
        .metadata
        .insert("treatments".to_string(), index.treatments.to_string());
    schema
        .metadata
        .insert("classes".to_string(), index.classes.to_string());
    schema
        .metadata
        .insert("dataset_key".to_string(), dataset_key.to_string());
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}

/// Writes `sites.parquet` (zstd).
pub fn write_sites(index: &DatasetIndex, dataset_key: &str, path: &Path) -> Result<()> {
    let batch = sites_batch(index, dataset_key)?;
    let file = std::fs::File::create(path).map_err(|e| CoreError::io(path, "cannot create", e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("level")))
        .build();
    let pq = |e| CoreError::Parquet {
        path: path.to_path_buf(),
        cause: e,
    };
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(pq)?;
    w.write(&batch).map_err(pq)?;
    w.close().map_err(pq)?;
    Ok(())
}
