//! Structured-output schemas as the API accepts them: the normalizer for `output_config.format` and strict tools.
//!
//! The API takes a subset of JSON Schema (see [`rules`]): every object needs
//! `additionalProperties: false`; numeric, string and most array constraints,
//! non-string `format`s and `oneOf` are rejected with a 400; recursive schemas
//! are not supported. [`normalize`] turns a schemars schema into that subset
//! the way the official SDKs do: `oneOf` becomes `anyOf`, a `type` list
//! becomes an `anyOf` of single types, objects are closed, and every keyword
//! the API does not take is removed and written into the `description` (as
//! `{minimum: 0, maximum: 255}`) so the model still sees it. The removed
//! constraints are checked on the answer by `agent-core`, against the full
//! schema the request carries. What cannot be expressed is an error before
//! sending: recursive schemas, maps (objects with free-form keys, which
//! `additionalProperties: false` would force empty) and untyped values.

mod refs;
#[cfg(any(test, feature = "fake"))]
pub(crate) mod rules;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use refs::{def_name, escape, reachable_defs};

/// The string formats the API supports.
pub(crate) const STRING_FORMATS: &[&str] =
    &["date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"];

/// How deeply schemas may nest.
pub(crate) const MAX_DEPTH: usize = 64;

/// Keywords that only constrain values of one type.
const NUMBER_KEYWORDS: &[&str] = &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];
const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern", "contentEncoding", "contentMediaType"];
const ARRAY_KEYWORDS: &[&str] =
    &["items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains"];
const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
];
/// Keywords dropped without a trace (they mean nothing to the model).
const DROPPED: &[&str] = &["$schema", "$id", "$comment", "$anchor"];

/// The schema `schema` as the API accepts it.
///
/// # Errors
///
/// A message naming the JSON path of what cannot be sent: a recursive
/// reference, a map, an untyped value, an unknown `$ref`, or nesting deeper
/// than [`MAX_DEPTH`].
pub(crate) fn normalize(schema: &Value) -> Result<Value, String> {
    let Value::Object(root) = schema else {
        return Err(format!("/: the schema must be an object, got {schema}"));
    };
    let mut root = root.clone();
    let mut defs = root.remove("$defs").and_then(into_object).unwrap_or_default();
    if let Some(legacy) = root.remove("definitions").and_then(into_object) {
        defs.extend(legacy);
    }
    let order = reachable_defs(&Value::Object(root.clone()), &defs)?;
    let mut out = match transform(&Value::Object(root), "", 0)? {
        Value::Object(out) => out,
        other => return Ok(other),
    };
    if !order.is_empty() {
        let mut normalized = Map::new();
        for name in order {
            let path = format!("/$defs/{}", escape(&name));
            normalized.insert(name.clone(), transform(&defs[&name], &path, 1)?);
        }
        out.insert("$defs".into(), Value::Object(normalized));
    }
    Ok(Value::Object(out))
}

fn into_object(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// One schema node, normalized; `path` is its JSON pointer, for errors.
fn transform(node: &Value, path: &str, depth: usize) -> Result<Value, String> {
    let at = if path.is_empty() { "/" } else { path };
    if depth > MAX_DEPTH {
        return Err(format!("{at}: the schema nests deeper than {MAX_DEPTH} levels"));
    }
    let fields = match node {
        Value::Object(fields) => fields,
        Value::Bool(true) => {
            return Err(format!("{at}: a schema accepting any value is not supported; give it a concrete type"));
        }
        _ => return Err(format!("{at}: {node} is not a schema the API accepts")),
    };
    if let Some(reference) = fields.get("$ref").and_then(Value::as_str) {
        // As the SDKs do: a reference stands alone (siblings such as a field's
        // description are dropped; the definition keeps its own).
        let name = def_name(reference)?;
        return Ok(json!({"$ref": format!("#/$defs/{}", escape(&name))}));
    }
    if let Some(Value::Array(types)) = fields.get("type") {
        return split_types(fields, types, path, depth);
    }
    let mut rest = fields.clone();
    for key in DROPPED {
        rest.remove(*key);
    }
    let mut out = Map::new();
    let kind = rest.remove("type");
    let any_of = rest.remove("anyOf");
    let one_of = rest.remove("oneOf");
    let all_of = rest.remove("allOf");
    let branches = |list: &Value, keyword: &str| -> Result<Value, String> {
        let Value::Array(items) = list else { return Err(format!("{at}: `{keyword}` must be an array")) };
        let normalized: Result<Vec<Value>, String> = items
            .iter()
            .enumerate()
            .map(|(index, item)| transform(item, &format!("{path}/{keyword}/{index}"), depth + 1))
            .collect();
        Ok(Value::Array(normalized?))
    };
    match (&any_of, &one_of) {
        (Some(any), Some(one)) => {
            let all = json!([{"anyOf": branches(any, "anyOf")?}, {"anyOf": branches(one, "oneOf")?}]);
            out.insert("allOf".into(), all);
        }
        (Some(list), None) => {
            out.insert("anyOf".into(), branches(list, "anyOf")?);
        }
        (None, Some(list)) => {
            out.insert("anyOf".into(), branches(list, "oneOf")?);
        }
        (None, None) => {}
    }
    if let Some(list) = &all_of {
        let normalized = branches(list, "allOf")?;
        match out.get_mut("allOf") {
            Some(Value::Array(existing)) => existing.extend(normalized.as_array().cloned().unwrap_or_default()),
            _ => {
                out.insert("allOf".into(), normalized);
            }
        }
    }
    for key in ["enum", "const", "description", "title"] {
        if let Some(value) = rest.remove(key) {
            out.insert(key.into(), value);
        }
    }
    match kind.as_ref().and_then(Value::as_str) {
        Some(kind) => {
            out.insert("type".into(), json!(kind));
            match kind {
                "object" => close_object(&mut rest, &mut out, path, depth)?,
                "array" => array(&mut rest, &mut out, path, depth)?,
                "string" => {
                    if let Some(format) = rest.remove("format") {
                        if format.as_str().is_some_and(|format| STRING_FORMATS.contains(&format)) {
                            out.insert("format".into(), format);
                        } else {
                            rest.insert("format".into(), format);
                        }
                    }
                }
                _ => {}
            }
        }
        None if kind.is_some() => return Err(format!("{at}: `type` must be a string or a list of strings")),
        None => {
            let typed = ["anyOf", "allOf", "enum", "const"].iter().any(|key| out.contains_key(*key));
            if !typed {
                return Err(format!(
                    "{at}: a schema without `type`, `enum`, `const` or `anyOf` is not supported; give it a concrete type"
                ));
            }
        }
    }
    if !rest.is_empty() {
        append_to_description(&mut out, &rest);
    }
    Ok(Value::Object(out))
}

/// `{"type": [A, B], ...}` as `{"anyOf": [{"type": A, ...}, {"type": B, ...}]}`,
/// each branch keeping only the keywords of its type.
fn split_types(fields: &Map<String, Value>, types: &[Value], path: &str, depth: usize) -> Result<Value, String> {
    let at = if path.is_empty() { "/" } else { path };
    let mut shared = fields.clone();
    shared.remove("type");
    let description = shared.remove("description");
    let title = shared.remove("title");
    let mut branches = Vec::new();
    for (index, kind) in types.iter().enumerate() {
        let Some(kind) = kind.as_str() else { return Err(format!("{at}: `type` entries must be strings")) };
        let mut branch: Map<String, Value> = shared
            .iter()
            .filter(|(key, _)| keyword_applies(key, kind))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        if let Some(Value::Array(values)) = branch.get_mut("enum") {
            values.retain(|value| value_has_type(value, kind));
            if values.is_empty() {
                continue;
            }
        }
        branch.insert("type".into(), json!(kind));
        branches.push(transform(&Value::Object(branch), &format!("{path}/type/{index}"), depth + 1)?);
    }
    let mut out = Map::new();
    if let Some(description) = description {
        out.insert("description".into(), description);
    }
    if let Some(title) = title {
        out.insert("title".into(), title);
    }
    if branches.len() == 1 {
        if let Some(Value::Object(single)) = branches.pop() {
            out.extend(single);
        }
        return Ok(Value::Object(out));
    }
    out.insert("anyOf".into(), Value::Array(branches));
    Ok(Value::Object(out))
}

/// Whether `key` constrains values of type `kind`.
fn keyword_applies(key: &str, kind: &str) -> bool {
    if NUMBER_KEYWORDS.contains(&key) {
        return matches!(kind, "integer" | "number");
    }
    if STRING_KEYWORDS.contains(&key) {
        return kind == "string";
    }
    if ARRAY_KEYWORDS.contains(&key) {
        return kind == "array";
    }
    if OBJECT_KEYWORDS.contains(&key) {
        return kind == "object";
    }
    if key == "format" {
        return kind != "null" && kind != "boolean";
    }
    true
}

fn value_has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// `properties`, `required` and `additionalProperties: false` of an object.
fn close_object(
    rest: &mut Map<String, Value>,
    out: &mut Map<String, Value>,
    path: &str,
    depth: usize,
) -> Result<(), String> {
    let at = if path.is_empty() { "/" } else { path };
    let properties = match rest.remove("properties") {
        Some(Value::Object(properties)) => properties,
        Some(other) => return Err(format!("{at}: `properties` must be an object, got {other}")),
        None => Map::new(),
    };
    match rest.remove("additionalProperties") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) if !properties.is_empty() => {}
        Some(_) => {
            return Err(format!(
                "{at}: objects with free-form keys (maps) are not supported: the API requires \
                 `additionalProperties: false` on every object, which would force them empty; \
                 use a list of key/value objects instead"
            ));
        }
    }
    let mut normalized = Map::new();
    for (name, property) in &properties {
        normalized
            .insert(name.clone(), transform(property, &format!("{path}/properties/{}", escape(name)), depth + 1)?);
    }
    out.insert("properties".into(), Value::Object(normalized));
    out.insert("additionalProperties".into(), json!(false));
    if let Some(required) = rest.remove("required") {
        out.insert("required".into(), required);
    }
    Ok(())
}

/// `items` and a `minItems` of 0 or 1; other array keywords stay in `rest`.
fn array(rest: &mut Map<String, Value>, out: &mut Map<String, Value>, path: &str, depth: usize) -> Result<(), String> {
    if let Some(items) = rest.remove("items") {
        out.insert("items".into(), transform(&items, &format!("{path}/items"), depth + 1)?);
    }
    if let Some(min) = rest.remove("minItems") {
        if matches!(min.as_u64(), Some(0 | 1)) {
            out.insert("minItems".into(), min);
        } else {
            rest.insert("minItems".into(), min);
        }
    }
    Ok(())
}

/// Appends the removed keywords to the description: `{minimum: 0, maximum: 255}`.
fn append_to_description(out: &mut Map<String, Value>, removed: &Map<String, Value>) {
    // Sorted for a deterministic description (the prompt cache keys on bytes).
    let sorted: BTreeMap<&String, &Value> = removed.iter().collect();
    let listed: Vec<String> = sorted.iter().map(|(key, value)| format!("{key}: {value}")).collect();
    let note = format!("{{{}}}", listed.join(", "));
    let description = match out.get("description").and_then(Value::as_str) {
        Some(existing) if !existing.is_empty() => format!("{existing}\n\n{note}"),
        _ => note,
    };
    out.insert("description".into(), Value::String(description));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::{normalize, rules};

    #[test]
    fn constraints_move_into_the_description_and_objects_close() {
        let schema = json!({"type": "object", "properties": {
            "age": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255, "description": "Age."},
            "name": {"type": ["string", "null"], "minLength": 1, "format": "email"}
        }, "required": ["age"]});
        let normalized = normalize(&schema).unwrap();
        assert_eq!(
            normalized,
            json!({"type": "object", "additionalProperties": false, "required": ["age"], "properties": {
                "age": {"type": "integer", "description": "Age.\n\n{format: \"uint8\", maximum: 255, minimum: 0}"},
                "name": {"anyOf": [
                    {"type": "string", "format": "email", "description": "{minLength: 1}"},
                    {"type": "null"}
                ]}
            }})
        );
        assert_eq!(rules::check(&normalized), Ok(()));
    }

    #[test]
    fn recursion_maps_and_untyped_values_are_errors() {
        let recursive = json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}});
        let err = normalize(&recursive).unwrap_err();
        assert!(err.contains("recursive (Node -> Node)"), "{err}");
        let indirect = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {"type": "array", "items": {"$ref": "#/$defs/A"}}}});
        assert!(normalize(&indirect).unwrap_err().contains("A -> B -> A"));
        assert!(normalize(&json!({"$ref": "#"})).unwrap_err().contains("refers to itself"));
        let map = json!({"type": "object", "properties": {"counts": {"type": "object", "additionalProperties": {"type": "integer"}}}});
        assert!(normalize(&map).unwrap_err().starts_with("/properties/counts: objects with free-form keys"));
        let any = json!({"type": "object", "properties": {"extra": true}});
        assert!(normalize(&any).unwrap_err().starts_with("/properties/extra: a schema accepting any value"));
        assert!(normalize(&json!({"$ref": "#/$defs/Gone"})).unwrap_err().contains("names no definition"));
    }

    #[test]
    fn unused_definitions_are_dropped_and_shared_ones_kept_once() {
        let schema = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/X"}, "b": {"$ref": "#/$defs/X"}},
            "$defs": {"X": {"type": "string"}, "Unused": {"type": "object", "additionalProperties": {"type": "string"}}}});
        let normalized = normalize(&schema).unwrap();
        assert_eq!(normalized["$defs"], json!({"X": {"type": "string"}}));
        assert_eq!(rules::check(&normalized), Ok(()));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut schema = json!({"type": "string"});
        for _ in 0..200 {
            schema = json!({"type": "array", "items": schema});
        }
        assert!(normalize(&schema).unwrap_err().contains("deeper than"));
    }
}
