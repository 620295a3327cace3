//! Arrow schemas of every Parquet artifact kind, built in one place so that
//! writers and readers agree, and rendered in the text form used by the
//! documents in `data-schemas/` (a test compares the two so they cannot drift).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};

use crate::index::CHANNELS;

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}

fn with_meta(fields: Vec<Field>, keys: &[(&str, String)]) -> Schema {
    let meta: HashMap<String, String> = keys
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Schema::new(fields).with_metadata(meta)
}

fn channel_list(name: &str) -> Field {
    Field::new(
        name,
        DataType::FixedSizeList(
            Arc::new(Field::new("item", DataType::Float32, false)),
            CHANNELS as i32,
        ),
        false,
    )
}

/// Site metadata (the dataset index, one row per site): `sites.parquet`.
pub fn sites_schema() -> Schema {
    with_meta(
        vec![
            utf8("id_code"),
            utf8("experiment"),
            utf8("cell_type"),
            utf8("split"),
            Field::new("plate", DataType::UInt8, false),
            utf8("well"),
            Field::new("site", DataType::UInt8, false),
            utf8("well_type"),
            Field::new("sirna", DataType::Int32, true),
            Field::new("label", DataType::Int32, true),
            utf8("label_source"),
        ],
        &[
            ("treatments", String::new()),
            ("classes", String::new()),
            ("dataset_key", String::new()),
        ],
    )
}

/// Site tensors (preprocess): `tensors-<shard>.parquet`, one row per site,
/// pixels as 6 x S x S uint8, channel-major.
pub fn tensors_schema(image_size: usize) -> Schema {
    with_meta(
        vec![
            Field::new("row", DataType::UInt32, false),
            utf8("id_code"),
            utf8("experiment"),
            Field::new("plate", DataType::UInt8, false),
            utf8("well"),
            Field::new("site", DataType::UInt8, false),
            Field::new(
                "pixels",
                DataType::FixedSizeBinary((CHANNELS * image_size * image_size) as i32),
                false,
            ),
            channel_list("mean"),
            channel_list("std"),
        ],
        &[
            ("image_size", image_size.to_string()),
            ("channels", CHANNELS.to_string()),
            ("dataset_key", String::new()),
        ],
    )
}

/// Pixel statistics (preprocess): `pixel_stats.parquet`, one row per
/// (experiment or plate) and channel, on the 0-255 scale.
pub fn pixel_stats_schema() -> Schema {
    with_meta(
        vec![
            utf8("level"),
            utf8("experiment"),
            Field::new("plate", DataType::UInt8, true),
            Field::new("channel", DataType::UInt8, false),
            Field::new("mean", DataType::Float64, false),
            Field::new("std", DataType::Float64, false),
            Field::new("sites", DataType::UInt64, false),
        ],
        &[("dataset_key", String::new())],
    )
}

/// Training metrics (train): `metrics.parquet`, one row per epoch and scope.
pub fn metrics_schema() -> Schema {
    with_meta(
        vec![
            Field::new("epoch", DataType::UInt32, false),
            utf8("scope"),
            Field::new("loss", DataType::Float64, true),
            Field::new("accuracy", DataType::Float64, true),
            Field::new("samples", DataType::UInt64, false),
            Field::new("lr", DataType::Float64, true),
            Field::new("pseudo_labels", DataType::UInt32, true),
        ],
        &[("seed", String::new()), ("cv_number", String::new())],
    )
}

/// Predictions (predict): one row per site with the raw logits.
pub fn predictions_schema(classes: usize) -> Schema {
    with_meta(
        vec![
            utf8("split"),
            utf8("id_code"),
            Field::new("site", DataType::UInt8, false),
            Field::new(
                "logits",
                DataType::FixedSizeList(
                    Arc::new(Field::new("item", DataType::Float32, false)),
                    classes as i32,
                ),
                false,
            ),
        ],
        &[
            ("classes", classes.to_string()),
            ("tta", String::new()),
            ("model_key", String::new()),
        ],
    )
}

/// Renders a schema as the `data-schemas/` documents write it: one line per
/// field `name: type[, nullable]`, then `metadata: k1, k2` (sorted keys).
pub fn render(schema: &Schema) -> String {
    let mut out = String::new();
    for f in schema.fields() {
        out.push_str(&format!(
            "{}: {}{}\n",
            f.name(),
            render_type(f.data_type()),
            if f.is_nullable() { ", nullable" } else { "" }
        ));
    }
    let mut keys: Vec<&String> = schema.metadata().keys().collect();
    keys.sort();
    if !keys.is_empty() {
        out.push_str(&format!(
            "metadata: {}\n",
            keys.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

fn render_type(t: &DataType) -> String {
    match t {
        DataType::Utf8 => "utf8".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Int32 => "int32".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Binary => "binary".into(),
        DataType::FixedSizeBinary(n) => format!("fixed_size_binary<{n}>"),
        DataType::FixedSizeList(f, n) => {
            format!("fixed_size_list<{}, {n}>", render_type(f.data_type()))
        }
        other => format!("{other:?}"),
    }
}

/// Every Parquet kind by the name its document uses, built with the
/// parameters given in the document's fence line (`image_size=512`).
pub fn by_name(name: &str, params: &HashMap<String, usize>) -> Option<Schema> {
    let p = |k: &str| params.get(k).copied();
    Some(match name {
        "sites" => sites_schema(),
        "tensors" => tensors_schema(p("image_size")?),
        "pixel_stats" => pixel_stats_schema(),
        "metrics" => metrics_schema(),
        "predictions" => predictions_schema(p("classes")?),
        _ => return None,
    })
}
