//! The API's structured-output schema rules: what `output_config.format` and strict tool schemas may contain.
//!
//! From the API reference ("JSON Schema Limitations"): supported are the basic
//! types, `enum`, `const`, `anyOf`, `allOf`, `$ref`/`$defs`, the string
//! formats in [`STRING_FORMATS`], and `additionalProperties: false`, which
//! every object must carry. Not supported: recursive schemas, numerical
//! constraints, string constraints, complex array constraints (any `minItems`
//! but 0 or 1) and `additionalProperties` other than `false`. Anything else is
//! refused here too, so a schema that passes is one the API accepts. The fake
//! Messages API answers a schema that fails with the API's 400.

use serde_json::{Map, Value};

use super::{MAX_DEPTH, STRING_FORMATS};

/// The keywords a schema node may carry.
const ALLOWED: &[&str] = &[
    "type",
    "enum",
    "const",
    "anyOf",
    "allOf",
    "$ref",
    "description",
    "title",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "format",
];
const TYPES: &[&str] = &["object", "array", "string", "integer", "number", "boolean", "null"];

/// Checks `schema` against the API's rules.
///
/// # Errors
///
/// The first violation, as `<json path>: <what is wrong>`.
pub(crate) fn check(schema: &Value) -> Result<(), String> {
    let Value::Object(root) = schema else { return Err(format!("/: the schema must be an object, got {schema}")) };
    let defs = match root.get("$defs") {
        None => Map::new(),
        Some(Value::Object(defs)) => defs.clone(),
        Some(_) => return Err("/$defs: must be an object".into()),
    };
    let checker = Checker { defs: &defs };
    let mut body = root.clone();
    body.remove("$defs");
    checker.node(&Value::Object(body), "", 0, &mut Vec::new())?;
    for (name, def) in &defs {
        checker.node(def, &format!("/$defs/{name}"), 1, &mut vec![name.clone()])?;
    }
    Ok(())
}

struct Checker<'a> {
    defs: &'a Map<String, Value>,
}

impl Checker<'_> {
    /// `following` lists the definitions being expanded, to find cycles.
    fn node(&self, node: &Value, path: &str, depth: usize, following: &mut Vec<String>) -> Result<(), String> {
        let at = if path.is_empty() { "/" } else { path };
        if depth > MAX_DEPTH {
            return Err(format!("{at}: the schema nests deeper than {MAX_DEPTH} levels"));
        }
        let Value::Object(fields) = node else {
            return Err(format!("{at}: {node} is not supported; write a schema object with a `type`"));
        };
        if let Some(key) = fields.keys().find(|key| !ALLOWED.contains(&key.as_str())) {
            let kind = fields.get("type").map(Value::to_string).unwrap_or_else(|| "untyped".into());
            return Err(format!("{at}: for {kind} schemas, property '{key}' is not supported"));
        }
        if let Some(reference) = fields.get("$ref") {
            return self.reference(reference, at, depth, following);
        }
        let kinds = types(fields, at)?;
        if kinds.is_empty() && !["enum", "const", "anyOf", "allOf"].iter().any(|key| fields.contains_key(*key)) {
            return Err(format!("{at}: a schema needs a `type`, `enum`, `const`, `anyOf`, `allOf` or `$ref`"));
        }
        if let Some(format) = fields.get("format") {
            let supported = format.as_str().is_some_and(|format| STRING_FORMATS.contains(&format));
            if kinds != ["string"] || !supported {
                return Err(format!(
                    "{at}: format {format} is not supported; supported formats (on strings only): {}",
                    STRING_FORMATS.join(", ")
                ));
            }
        }
        if kinds.contains(&"object") {
            self.object(fields, path, depth, following)?;
        } else if fields.contains_key("properties") || fields.contains_key("additionalProperties") {
            return Err(format!("{at}: `properties` and `additionalProperties` need `type: \"object\"`"));
        }
        if let Some(items) = fields.get("items") {
            self.node(items, &format!("{path}/items"), depth + 1, following)?;
        }
        if let Some(min) = fields.get("minItems")
            && !matches!(min.as_u64(), Some(0 | 1))
        {
            return Err(format!("{at}: `minItems` {min} is not supported; only 0 and 1 are"));
        }
        for keyword in ["anyOf", "allOf"] {
            let Some(branches) = fields.get(keyword) else { continue };
            let Some(branches) = branches.as_array().filter(|branches| !branches.is_empty()) else {
                return Err(format!("{at}: `{keyword}` must be a non-empty array"));
            };
            for (index, branch) in branches.iter().enumerate() {
                self.node(branch, &format!("{path}/{keyword}/{index}"), depth + 1, following)?;
            }
        }
        if let Some(values) = fields.get("enum")
            && values.as_array().is_none_or(|values| values.is_empty())
        {
            return Err(format!("{at}: `enum` must be a non-empty array"));
        }
        Ok(())
    }

    fn reference(&self, reference: &Value, at: &str, depth: usize, following: &mut Vec<String>) -> Result<(), String> {
        let name = reference
            .as_str()
            .and_then(|reference| reference.strip_prefix("#/$defs/"))
            .ok_or_else(|| format!("{at}: `$ref` {reference} must point into `#/$defs`"))?;
        let name = name.replace("~1", "/").replace("~0", "~");
        if following.contains(&name) {
            return Err(format!("{at}: recursive schemas are not supported (`{name}` refers to itself)"));
        }
        let Some(target) = self.defs.get(&name) else {
            return Err(format!("{at}: `$ref` {reference} names no definition in `$defs`"));
        };
        following.push(name.clone());
        let result = self.node(target, &format!("/$defs/{name}"), depth + 1, following);
        following.pop();
        result
    }

    fn object(
        &self,
        fields: &Map<String, Value>,
        path: &str,
        depth: usize,
        following: &mut Vec<String>,
    ) -> Result<(), String> {
        let at = if path.is_empty() { "/" } else { path };
        if fields.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(format!("{at}: for 'object' type, 'additionalProperties' must be explicitly set to false"));
        }
        let properties = match fields.get("properties") {
            None => &Map::new(),
            Some(Value::Object(properties)) => properties,
            Some(_) => return Err(format!("{at}: `properties` must be an object")),
        };
        for (name, property) in properties {
            self.node(property, &format!("{path}/properties/{name}"), depth + 1, following)?;
        }
        if let Some(required) = fields.get("required") {
            let Some(names) = required.as_array() else { return Err(format!("{at}: `required` must be an array")) };
            for name in names {
                if !name.as_str().is_some_and(|name| properties.contains_key(name)) {
                    return Err(format!("{at}: required property {name} is not defined in `properties`"));
                }
            }
        }
        Ok(())
    }
}

/// The `type` names of a node (empty when it has none).
fn types<'a>(fields: &'a Map<String, Value>, at: &str) -> Result<Vec<&'a str>, String> {
    let names: Vec<&Value> = match fields.get("type") {
        None => return Ok(Vec::new()),
        Some(Value::Array(names)) => names.iter().collect(),
        Some(name) => vec![name],
    };
    names
        .into_iter()
        .map(|name| match name.as_str() {
            Some(name) if TYPES.contains(&name) => Ok(name),
            _ => Err(format!("{at}: type {name} is not supported; use one of {}", TYPES.join(", "))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;

    #[test]
    fn the_spec_rules() {
        let ok = json!({"type": "object", "additionalProperties": false, "required": ["a"], "properties": {
            "a": {"type": "string", "format": "date"},
            "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "c": {"type": "array", "items": {"$ref": "#/$defs/C"}, "minItems": 1}
        }, "$defs": {"C": {"type": "string", "enum": ["x"]}}});
        assert_eq!(check(&ok), Ok(()));
        let rejected = [
            (json!({"type": "object", "properties": {}}), "'additionalProperties' must be explicitly set to false"),
            (json!({"type": "integer", "minimum": 0}), "property 'minimum' is not supported"),
            (json!({"type": "integer", "format": "uint32"}), "format \"uint32\" is not supported"),
            (json!({"type": "number", "format": "double"}), "format \"double\" is not supported"),
            (json!({"type": "string", "maxLength": 3}), "property 'maxLength' is not supported"),
            (json!({"type": "string", "format": "ip"}), "format \"ip\" is not supported"),
            (json!({"type": "array", "items": {"type": "string"}, "minItems": 2}), "`minItems` 2 is not supported"),
            (json!({"oneOf": [{"type": "string"}]}), "property 'oneOf' is not supported"),
            (json!({"type": "object", "additionalProperties": {"type": "string"}}), "must be explicitly set to false"),
            (json!({"type": "object", "additionalProperties": false, "properties": {"x": true}}), "/properties/x"),
            (
                json!({"$ref": "#/$defs/N", "$defs": {"N": {"type": "array", "items": {"$ref": "#/$defs/N"}}}}),
                "recursive schemas are not supported",
            ),
            (json!({"type": "tuple"}), "type \"tuple\" is not supported"),
        ];
        for (schema, expected) in rejected {
            let err = check(&schema).expect_err(&schema.to_string());
            assert!(err.contains(expected), "{schema}: {err}");
        }
    }
}
