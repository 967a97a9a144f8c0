//! JSON schemas for tool arguments and structured output, from schemars types.

use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The JSON schema of `T`, shaped as providers accept it for tool input and
/// structured output: no `$schema` or `title` keys, and an object root with
/// `properties` and `required` present.
pub fn schema_for<T: JsonSchema + ?Sized>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    normalize_root(schema.to_value())
}

/// Removes the keys providers reject at the root and makes sure an object
/// schema lists `properties` and `required`.
fn normalize_root(mut schema: Value) -> Value {
    if let Value::Object(map) = &mut schema {
        map.remove("$schema");
        map.remove("title");
        if map.get("type").and_then(Value::as_str) == Some("object") {
            map.entry("properties").or_insert_with(|| Value::Object(Map::new()));
            map.entry("required").or_insert_with(|| Value::Array(Vec::new()));
        }
    }
    schema
}
