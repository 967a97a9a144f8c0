//! AgentOS's `FilterExpr` JSON (`{"op": "EQ", "key": ..., "value": ...}`, `AND`, `OR`, `NOT`, ...) parsed into a [`TraceFilter`].

use serde_json::Value;

use super::filter::{
    Comparison, FilterError, FilterValue, MAX_FILTER_DEPTH, TraceField, TraceFilter, expected, too_deep,
};
use super::time::parse_time_micros;

pub(super) fn parse(json: &Value, depth: usize) -> Result<TraceFilter, FilterError> {
    if depth > MAX_FILTER_DEPTH {
        return Err(too_deep());
    }
    let op = json
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| FilterError::new(format!("Invalid filter dictionary: must contain 'op' key. Got: {json}")))?;
    let list = |name: &str| -> Result<Vec<TraceFilter>, FilterError> {
        let conditions = json.get(name).and_then(Value::as_array).filter(|items| !items.is_empty());
        let conditions =
            conditions.ok_or_else(|| FilterError::new(format!("{op} filter requires '{name}' field. Got: {json}")))?;
        conditions.iter().map(|condition| parse(condition, depth + 1)).collect()
    };
    let field = || -> Result<TraceField, FilterError> {
        let key = json
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| FilterError::new(format!("{op} filter requires 'key' and 'value' fields. Got: {json}")))?;
        TraceField::parse(key).ok_or_else(|| {
            let allowed: Vec<&str> = TraceField::ALL.iter().map(|field| field.as_str()).collect();
            FilterError::new(format!("Invalid filter field: '{key}'. Allowed: {allowed:?}"))
        })
    };
    let value = || {
        json.get("value")
            .filter(|value| !value.is_null())
            .ok_or_else(|| FilterError::new(format!("{op} filter requires 'key' and 'value' fields. Got: {json}")))
    };
    let comparison = match op {
        "AND" => return Ok(TraceFilter::And(list("conditions")?)),
        "OR" => return Ok(TraceFilter::Or(list("conditions")?)),
        "NOT" => {
            let condition = json
                .get("condition")
                .filter(|condition| condition.is_object())
                .ok_or_else(|| FilterError::new(format!("NOT filter requires 'condition' field. Got: {json}")))?;
            return Ok(TraceFilter::Not(Box::new(parse(condition, depth + 1)?)));
        }
        "IN" => {
            let field = field()?;
            let values =
                json.get("values").or_else(|| json.get("value")).and_then(Value::as_array).ok_or_else(|| {
                    FilterError::new(format!("IN filter requires 'key' and 'values' fields. Got: {json}"))
                })?;
            let values = values.iter().map(|value| convert(field, value)).collect::<Result<_, _>>()?;
            return Ok(TraceFilter::In { field, values });
        }
        "CONTAINS" | "STARTSWITH" => {
            let field = field()?;
            let text = value()?
                .as_str()
                .ok_or_else(|| FilterError::new(format!("{op} takes a string value. Got: {json}")))?
                .to_owned();
            let filter = if op == "CONTAINS" {
                TraceFilter::Contains { field, text }
            } else {
                TraceFilter::StartsWith { field, text }
            };
            filter.check()?;
            return Ok(filter);
        }
        "EQ" => Comparison::Eq,
        "NEQ" => Comparison::Neq,
        "GT" => Comparison::Gt,
        "GTE" => Comparison::Gte,
        "LT" => Comparison::Lt,
        "LTE" => Comparison::Lte,
        other => return Err(FilterError::new(format!("Unknown filter operator: {other}"))),
    };
    let field = field()?;
    Ok(TraceFilter::Compare { field, op: comparison, value: convert(field, value()?)? })
}

/// A JSON value as a value of `field`.
fn convert(field: TraceField, json: &Value) -> Result<FilterValue, FilterError> {
    let wrong = || FilterError::new(format!("`{}` takes {}. Got: {json}", field.as_str(), expected(field)));
    if field.is_text() {
        return json.as_str().map(|text| FilterValue::Text(text.to_owned())).ok_or_else(wrong);
    }
    if field.is_time() {
        if let Some(text) = json.as_str() {
            return parse_time_micros(text).map(FilterValue::Int).ok_or_else(wrong);
        }
        let seconds = json.as_f64().filter(|seconds| seconds.is_finite()).ok_or_else(wrong)?;
        return Ok(FilterValue::Int((seconds * 1e6).round() as i64));
    }
    if let Some(whole) = json.as_i64() {
        return Ok(FilterValue::Int(whole));
    }
    match json.as_f64() {
        Some(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => Ok(FilterValue::Int(value as i64)),
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let cases = [
            (json!({"key": "status"}), "'op'"),
            (json!({"op": "LIKE", "key": "status", "value": "x"}), "Unknown filter operator"),
            (json!({"op": "EQ", "key": "colour", "value": "x"}), "Invalid filter field"),
            (json!({"op": "EQ", "key": "status"}), "'value'"),
            (json!({"op": "EQ", "key": "status", "value": 3}), "a string"),
            (json!({"op": "GT", "key": "start_time", "value": "yesterday"}), "a time"),
            (json!({"op": "GT", "key": "start_time", "value": "2025-02-30T00:00:00Z"}), "a time"),
            (json!({"op": "GT", "key": "duration_ms", "value": 1.5}), "whole milliseconds"),
            (json!({"op": "CONTAINS", "key": "duration_ms", "value": "1"}), "not text"),
            (json!({"op": "AND", "conditions": []}), "'conditions'"),
            (json!({"op": "NOT"}), "'condition'"),
            (json!({"op": "IN", "key": "status", "value": "OK"}), "'values'"),
        ];
        for (json, needle) in cases {
            let error = TraceFilter::from_json(&json).expect_err("invalid").to_string();
            assert!(error.contains(needle), "{json}: {error}");
        }
        let mut deep = json!({"op": "EQ", "key": "status", "value": "OK"});
        for _ in 0..=MAX_FILTER_DEPTH {
            deep = json!({"op": "NOT", "condition": deep});
        }
        assert!(TraceFilter::from_json(&deep).is_err());
        assert!(TraceFilter::eq(TraceField::StartTime, "soon").check().is_err());
    }
}
