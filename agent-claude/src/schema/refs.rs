//! References in schemas: the `$defs` a schema reaches, and the cycles that make it recursive.

use serde_json::{Map, Value};

use super::MAX_DEPTH;

/// The `$defs` reachable from `root`, in first-use order.
///
/// # Errors
///
/// A cycle (a recursive schema), a reference to a missing definition, or a
/// reference outside `#/$defs`.
pub(super) fn reachable_defs(root: &Value, defs: &Map<String, Value>) -> Result<Vec<String>, String> {
    let mut order = Vec::new();
    let mut on_path = Vec::new();
    visit_refs(root, defs, &mut on_path, &mut order, 0)?;
    Ok(order)
}

fn visit_refs(
    node: &Value,
    defs: &Map<String, Value>,
    on_path: &mut Vec<String>,
    done: &mut Vec<String>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("/: the schema nests deeper than {MAX_DEPTH} levels"));
    }
    let mut references = Vec::new();
    collect_refs(node, &mut references, 0);
    for reference in references {
        let name = def_name(&reference)?;
        if let Some(start) = on_path.iter().position(|seen| *seen == name) {
            let mut cycle: Vec<&str> = on_path[start..].iter().map(String::as_str).collect();
            cycle.push(&name);
            return Err(format!(
                "/$defs/{}: the schema is recursive ({}); the API does not support recursive schemas",
                escape(&name),
                cycle.join(" -> ")
            ));
        }
        if done.contains(&name) {
            continue;
        }
        let Some(target) = defs.get(&name) else {
            return Err(format!("/: `$ref` {reference} names no definition"));
        };
        on_path.push(name.clone());
        visit_refs(target, defs, on_path, done, depth + 1)?;
        on_path.pop();
        done.push(name);
    }
    Ok(())
}

/// Every `$ref` under `node`.
fn collect_refs(node: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH * 4 {
        return;
    }
    match node {
        Value::Object(fields) => {
            if let Some(reference) = fields.get("$ref").and_then(Value::as_str) {
                out.push(reference.to_owned());
            }
            for (key, value) in fields {
                // Enum and constant values are data, not schemas.
                if !matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                    collect_refs(value, out, depth + 1);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out, depth + 1)),
        _ => {}
    }
}

/// The definition a reference names.
pub(super) fn def_name(reference: &str) -> Result<String, String> {
    if reference == "#" {
        return Err("/: the schema refers to itself (`$ref: \"#\"`); the API does not support recursive schemas".into());
    }
    let name = reference
        .strip_prefix("#/$defs/")
        .or_else(|| reference.strip_prefix("#/definitions/"))
        .ok_or_else(|| format!("/: `$ref` {reference} is not supported; only `#/$defs/...` references are"))?;
    Ok(name.replace("~1", "/").replace("~0", "~"))
}

pub(super) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
