//! Schema-valid sample values for `TestModel`.

use serde_json::{Map, Value, json};

/// A value that matches a JSON schema: every required and optional property
/// of objects, the first variant of `anyOf`/`oneOf`/`enum`, one array item,
/// `$ref`s resolved against the root's `$defs`.
pub fn sample_value(schema: &Value) -> Value {
    sample(schema, schema, 0)
}

fn sample(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    let Some(object) = schema.as_object() else { return Value::Null };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let target = reference
            .strip_prefix("#/")
            .map(|path| path.split('/').try_fold(root, |node, key| node.get(key)))
            .unwrap_or(None);
        return target.map_or(Value::Null, |target| sample(target, root, depth + 1));
    }
    if let Some(value) = object.get("const") {
        return value.clone();
    }
    if let Some(first) = object.get("enum").and_then(Value::as_array).and_then(|values| values.first()) {
        return first.clone();
    }
    if let Some(value) = object.get("default") {
        return value.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(variants) = object.get(key).and_then(Value::as_array) {
            let chosen = variants.iter().find(|variant| variant.get("type") != Some(&json!("null")));
            return chosen.map_or(Value::Null, |variant| sample(variant, root, depth + 1));
        }
    }
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).find(|k| *k != "null").unwrap_or("null"),
        _ if object.contains_key("properties") => "object",
        _ => "null",
    };
    match kind {
        "object" => {
            let mut out = Map::new();
            if let Some(properties) = object.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    out.insert(name.clone(), sample(property, root, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = object.get("minItems").and_then(Value::as_u64).unwrap_or(1).max(1);
            let item = object.get("items").map_or(Value::Null, |items| sample(items, root, depth + 1));
            Value::Array((0..min).map(|_| item.clone()).collect())
        }
        "string" => match object.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            Some("date") => json!("2026-01-01"),
            Some("uuid") => json!("00000000-0000-4000-8000-000000000000"),
            _ => {
                let min = object.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize;
                Value::String("a".repeat(min.max(1)))
            }
        },
        "integer" => json!(object.get("minimum").and_then(Value::as_i64).unwrap_or(0).max(0)),
        "number" => json!(object.get("minimum").and_then(Value::as_f64).unwrap_or(0.0).max(0.0)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}
