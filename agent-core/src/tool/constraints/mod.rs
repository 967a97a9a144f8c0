//! Client-side validation of the schema constraints a provider's schema normalizer strips (ranges, lengths, formats).
//!
//! Providers with a restricted JSON Schema dialect (Claude's structured output
//! and strict tools) are sent a schema without `minimum`, `maxLength`,
//! `format: "uint8"` and the like, so the model's answer is only guaranteed to
//! match the reduced schema. [`check`] validates the answer against the full
//! schemars schema (draft 2020-12), so an out-of-range value is caught and can
//! be retried instead of passing silently.

use serde_json::{Map, Value};

/// How deep `check` follows nested schemas and `$ref`s before giving up.
const MAX_DEPTH: usize = 128;

/// Validates `value` against the constraints of `schema`; the error names the
/// JSON path of the first violation, as in
/// `/items/2/age: 300 is greater than the maximum 255`.
///
/// Checked: `type` (integer vs number), `enum`, `const`, `minimum`,
/// `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`,
/// `minLength`, `maxLength`, `minItems`, `maxItems`, `uniqueItems`, integer
/// `format`s (`uint8` .. `uint64`, `int8` .. `int64`, `uint`, `int`),
/// `properties`, `required`, `additionalProperties`, `items`, `prefixItems`,
/// `anyOf`, `oneOf`, `allOf`, and `$ref` into `#/$defs/...` or
/// `#/definitions/...`. `oneOf` accepts a value matching at least one branch,
/// as serde's untagged and tagged enums do, so overlapping branches never
/// reject an answer serde would accept.
///
/// # Errors
///
/// The first violation, with its path (`/` for the root).
pub(crate) fn check(schema: &Value, value: &Value) -> Result<(), String> {
    let checker = Checker { root: schema };
    checker.check(schema, value, &mut String::new(), 0).map_err(|violation| violation.to_string())
}

/// One violation: where and what.
#[derive(Debug)]
struct Violation {
    path: String,
    message: String,
    /// The value had the wrong type (used to pick the telling branch of an `anyOf`).
    wrong_type: bool,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        write!(f, "{path}: {}", self.message)
    }
}

struct Checker<'a> {
    root: &'a Value,
}

type Checked = Result<(), Violation>;

fn violation(path: &str, message: impl Into<String>) -> Violation {
    Violation { path: path.to_owned(), message: message.into(), wrong_type: false }
}

impl Checker<'_> {
    fn check(&self, schema: &Value, value: &Value, path: &mut String, depth: usize) -> Checked {
        if depth > MAX_DEPTH {
            return Err(violation(path, format!("the schema nests deeper than {MAX_DEPTH} levels")));
        }
        let fields = match schema {
            Value::Bool(true) => return Ok(()),
            Value::Bool(false) => return Err(violation(path, "no value is allowed here")),
            Value::Object(fields) => fields,
            _ => return Ok(()),
        };
        if let Some(reference) = fields.get("$ref").and_then(Value::as_str) {
            let target =
                self.resolve(reference).ok_or_else(|| violation(path, format!("unknown `$ref` {reference}")))?;
            self.check(target, value, path, depth + 1)?;
        }
        check_type(fields, value, path)?;
        if let Some(allowed) = fields.get("enum").and_then(Value::as_array)
            && !allowed.iter().any(|candidate| same_value(candidate, value))
        {
            return Err(violation(path, format!("{value} is not one of {}", Value::Array(allowed.clone()))));
        }
        if let Some(expected) = fields.get("const")
            && !same_value(expected, value)
        {
            return Err(violation(path, format!("{value} is not the constant {expected}")));
        }
        match value {
            Value::Number(_) => check_number(fields, value, path)?,
            Value::String(text) => check_string(fields, text, path)?,
            Value::Array(items) => self.check_array(fields, items, path, depth)?,
            Value::Object(object) => self.check_object(fields, object, path, depth)?,
            Value::Bool(_) | Value::Null => {}
        }
        self.check_combinators(fields, value, path, depth)
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        if reference == "#" {
            return Some(self.root);
        }
        let pointer = reference.strip_prefix('#')?;
        if !(pointer.starts_with("/$defs/") || pointer.starts_with("/definitions/")) {
            return None;
        }
        self.root.pointer(pointer)
    }

    fn check_array(&self, fields: &Map<String, Value>, items: &[Value], path: &mut String, depth: usize) -> Checked {
        let count = items.len() as u64;
        if let Some(min) = fields.get("minItems").and_then(Value::as_u64)
            && count < min
        {
            return Err(violation(path, format!("{count} items are fewer than the minimum {min}")));
        }
        if let Some(max) = fields.get("maxItems").and_then(Value::as_u64)
            && count > max
        {
            return Err(violation(path, format!("{count} items are more than the maximum {max}")));
        }
        if fields.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (index, item) in items.iter().enumerate() {
                if items[..index].iter().any(|earlier| same_value(earlier, item)) {
                    return Err(violation(path, format!("item {index} ({item}) repeats an earlier item")));
                }
            }
        }
        let prefix = fields.get("prefixItems").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        for (index, item) in items.iter().enumerate() {
            let item_schema = match prefix.get(index) {
                Some(schema) => Some(schema),
                None => fields.get("items"),
            };
            if let Some(item_schema) = item_schema {
                self.nested(item_schema, item, path, &index.to_string(), depth)?;
            }
        }
        Ok(())
    }

    fn check_object(
        &self,
        fields: &Map<String, Value>,
        object: &Map<String, Value>,
        path: &mut String,
        depth: usize,
    ) -> Checked {
        let properties = fields.get("properties").and_then(Value::as_object);
        if let Some(required) = fields.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    return Err(violation(path, format!("the required property `{name}` is missing")));
                }
            }
        }
        for (key, item) in object {
            match properties.and_then(|properties| properties.get(key)) {
                Some(property) => self.nested(property, item, path, key, depth)?,
                None => match fields.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        return Err(violation(path, format!("the property `{key}` is not allowed")));
                    }
                    Some(additional) => self.nested(additional, item, path, key, depth)?,
                    None => {}
                },
            }
        }
        Ok(())
    }

    fn check_combinators(
        &self,
        fields: &Map<String, Value>,
        value: &Value,
        path: &mut String,
        depth: usize,
    ) -> Checked {
        if let Some(all) = fields.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.check(branch, value, path, depth + 1)?;
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            let Some(branches) = fields.get(keyword).and_then(Value::as_array) else { continue };
            let mut failures = Vec::new();
            for branch in branches {
                match self.check(branch, value, path, depth + 1) {
                    Ok(()) => {
                        failures.clear();
                        break;
                    }
                    Err(failure) => failures.push(failure),
                }
            }
            if failures.len() == branches.len() && !failures.is_empty() {
                return Err(most_telling(failures));
            }
        }
        Ok(())
    }

    /// Checks `item` under `schema` at `path/segment`.
    fn nested(&self, schema: &Value, item: &Value, path: &mut String, segment: &str, depth: usize) -> Checked {
        let length = path.len();
        path.push('/');
        // JSON pointer escaping: `~` and `/` in keys.
        path.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        let result = self.check(schema, item, path, depth + 1);
        path.truncate(length);
        result
    }
}

/// The failure of the branch that got furthest into the value; among equals,
/// one that is not a plain type mismatch (the branch of the value's own type).
fn most_telling(failures: Vec<Violation>) -> Violation {
    let rank = |failure: &Violation| (failure.path.matches('/').count(), !failure.wrong_type);
    let mut best: Option<Violation> = None;
    for failure in failures {
        if best.as_ref().is_none_or(|current| rank(&failure) > rank(current)) {
            best = Some(failure);
        }
    }
    best.unwrap_or_else(|| violation("", "no branch matches"))
}

fn check_type(fields: &Map<String, Value>, value: &Value, path: &str) -> Checked {
    let names: Vec<&str> = match fields.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    if names.iter().any(|name| has_type(value, name)) {
        return Ok(());
    }
    Err(Violation {
        path: path.to_owned(),
        message: format!("{value} is not of type {}", names.join(" or ")),
        wrong_type: true,
    })
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => integer(value).is_some(),
        _ => true,
    }
}

/// The value as an integer, when it is one (`3.0` counts, as in JSON Schema).
fn integer(value: &Value) -> Option<i128> {
    if let Some(unsigned) = value.as_u64() {
        return Some(i128::from(unsigned));
    }
    if let Some(signed) = value.as_i64() {
        return Some(i128::from(signed));
    }
    let float = value.as_f64()?;
    // Whole floats within i64 convert exactly enough for range checks.
    (float.fract() == 0.0 && float.abs() < 9.2e18).then_some(float as i128)
}

/// `a` compared with `b`, exactly for integers and as floats otherwise.
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (integer(a), integer(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn check_number(fields: &Map<String, Value>, value: &Value, path: &str) -> Checked {
    use std::cmp::Ordering::{Greater, Less};
    let bound = |key: &str| fields.get(key).filter(|bound| bound.is_number());
    if let Some(max) = bound("maximum")
        && compare(value, max) == Some(Greater)
    {
        return Err(violation(path, format!("{value} is greater than the maximum {max}")));
    }
    if let Some(min) = bound("minimum")
        && compare(value, min) == Some(Less)
    {
        return Err(violation(path, format!("{value} is less than the minimum {min}")));
    }
    if let Some(max) = bound("exclusiveMaximum")
        && compare(value, max) != Some(Less)
    {
        return Err(violation(path, format!("{value} is not less than the exclusive maximum {max}")));
    }
    if let Some(min) = bound("exclusiveMinimum")
        && compare(value, min) != Some(Greater)
    {
        return Err(violation(path, format!("{value} is not greater than the exclusive minimum {min}")));
    }
    if let Some(step) = bound("multipleOf") {
        let multiple = match (integer(value), integer(step)) {
            (Some(value), Some(step)) if step != 0 => value % step == 0,
            _ => match (value.as_f64(), step.as_f64()) {
                (Some(value), Some(step)) if step > 0.0 => {
                    let ratio = value / step;
                    (ratio - ratio.round()).abs() <= 1e-9 * ratio.abs().max(1.0)
                }
                _ => true,
            },
        };
        if !multiple {
            return Err(violation(path, format!("{value} is not a multiple of {step}")));
        }
    }
    if let Some(format) = fields.get("format").and_then(Value::as_str)
        && let Some((min, max)) = integer_range(format)
    {
        match integer(value) {
            Some(number) if number < min || number > max => {
                return Err(violation(path, format!("{value} is out of the range of `{format}` ({min} to {max})")));
            }
            None => return Err(violation(path, format!("{value} is not an integer (`{format}`)"))),
            Some(_) => {}
        }
    }
    Ok(())
}

/// The range of an integer `format` schemars emits.
fn integer_range(format: &str) -> Option<(i128, i128)> {
    Some(match format {
        "uint8" => (0, i128::from(u8::MAX)),
        "uint16" => (0, i128::from(u16::MAX)),
        "uint32" => (0, i128::from(u32::MAX)),
        "uint64" | "uint" => (0, i128::from(u64::MAX)),
        "int8" => (i128::from(i8::MIN), i128::from(i8::MAX)),
        "int16" => (i128::from(i16::MIN), i128::from(i16::MAX)),
        "int32" => (i128::from(i32::MIN), i128::from(i32::MAX)),
        "int64" | "int" => (i128::from(i64::MIN), i128::from(i64::MAX)),
        _ => return None,
    })
}

fn check_string(fields: &Map<String, Value>, text: &str, path: &str) -> Checked {
    let length = text.chars().count() as u64;
    if let Some(min) = fields.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        return Err(violation(path, format!("{length} characters are fewer than the minimum length {min}")));
    }
    if let Some(max) = fields.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        return Err(violation(path, format!("{length} characters are more than the maximum length {max}")));
    }
    Ok(())
}

/// JSON equality where `1` and `1.0` are the same number.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => compare(a, b) == Some(std::cmp::Ordering::Equal),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(key, value)| b.get(key).is_some_and(|other| same_value(value, other)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests;
