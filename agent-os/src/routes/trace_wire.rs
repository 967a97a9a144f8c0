//! Traces in AgentOS's JSON: `TraceSummary`, `TraceDetail` with its `TraceNode` tree, `TraceSessionStats` (absent fields left out, as AgentOS does).

use agent_core::support::rfc3339;
use agent_core::trace::{SessionTraceStats, SpanKind, SpanNode, SpanRecord, SpanStatus, Trace, TraceSummary};
use serde_json::{Map, Value, json};

/// Unix microseconds as `2025-11-19T10:30:00.123456Z`.
pub(super) fn time(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let whole = rfc3339::format(seconds);
    format!("{}.{fraction:06}Z", whole.trim_end_matches('Z'))
}

/// A duration as AgentOS shows it: `850ms` under a second, `1.20s` from one.
pub(super) fn duration(milliseconds: i64) -> String {
    if milliseconds < 1000 {
        format!("{}ms", milliseconds.max(0))
    } else {
        format!("{:.2}s", milliseconds as f64 / 1000.0)
    }
}

/// Inserts the fields that are set.
fn put(object: &mut Map<String, Value>, fields: &[(&str, Option<&str>)]) {
    for (name, value) in fields {
        if let Some(value) = value {
            object.insert((*name).to_owned(), Value::String((*value).to_owned()));
        }
    }
}

fn summary_fields(summary: &TraceSummary) -> Map<String, Value> {
    let mut object = json!({
        "trace_id": summary.trace_id,
        "name": summary.name,
        "status": summary.status.as_str(),
        "duration": duration(summary.duration_ms),
        "start_time": time(summary.start_time),
        "end_time": time(summary.end_time),
        "total_spans": summary.total_spans,
        "error_count": summary.error_count,
        "created_at": time(summary.created_at),
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    put(
        &mut object,
        &[
            ("input", summary.input.as_deref()),
            ("run_id", summary.run_id.as_deref()),
            ("session_id", summary.session_id.as_deref()),
            ("user_id", summary.user_id.as_deref()),
            ("agent_id", summary.agent_id.as_deref()),
            ("team_id", summary.team_id.as_deref()),
            ("workflow_id", summary.workflow_id.as_deref()),
        ],
    );
    object
}

/// `TraceSummary`.
pub(super) fn summary_json(summary: &TraceSummary) -> Value {
    Value::Object(summary_fields(summary))
}

/// `TraceDetail`: the summary, the root's output or error, and the span tree.
pub(super) fn trace_json(trace: &Trace) -> Value {
    let summary = &trace.summary;
    let mut object = summary_fields(summary);
    put(&mut object, &[("output", summary.output.as_deref()), ("error", summary.error.as_deref())]);
    let tree: Vec<Value> = trace.tree().into_iter().map(|root| root_json(trace, root)).collect();
    object.insert("tree".into(), Value::Array(tree));
    Value::Object(object)
}

/// The root node: its input, output and error are the trace's (not
/// repeated), its metadata the token totals of the trace's model calls.
fn root_json(trace: &Trace, root: SpanNode<'_>) -> Value {
    let span = root.span;
    let children = children_json(root.children);
    let mut object = node_fields(span);
    let tokens = |name: &str| -> u64 {
        trace
            .spans
            .iter()
            .filter(|span| span.kind == SpanKind::Llm)
            .filter_map(|span| span.attributes.get(name)?.as_u64())
            .sum()
    };
    let mut metadata = Map::new();
    for (total, field) in [("total_input_tokens", "input_tokens"), ("total_output_tokens", "output_tokens")] {
        let sum = tokens(field);
        if sum > 0 {
            metadata.insert(total.into(), json!(sum));
        }
    }
    if !metadata.is_empty() {
        object.insert("metadata".into(), Value::Object(metadata));
    }
    if !children.is_empty() {
        object.insert("spans".into(), Value::Array(children));
    }
    Value::Object(object)
}

fn children_json(children: Vec<SpanNode<'_>>) -> Vec<Value> {
    children.into_iter().map(|child| node_json(child.span, child.children)).collect()
}

/// The fields every node has.
fn node_fields(span: &SpanRecord) -> Map<String, Value> {
    json!({
        "id": span.span_id,
        "name": span.name,
        "type": span.kind.as_str(),
        "duration": duration(span.duration_micros() / 1000),
        "start_time": time(span.start_time),
        "end_time": time(span.end_time),
        "status": span.status.as_str(),
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

/// `TraceNode`: a span with its input, output or error, step type,
/// attributes (as `metadata`) and children.
pub(super) fn node_json(span: &SpanRecord, children: Vec<SpanNode<'_>>) -> Value {
    let mut object = node_fields(span);
    let failed = span.status == SpanStatus::Error;
    put(
        &mut object,
        &[
            ("input", span.input.as_deref()),
            ("output", if failed { None } else { span.output.as_deref() }),
            ("error", if failed { span.status_message.as_deref() } else { None }),
            ("step_type", if span.kind == SpanKind::Step { span.attribute("step_type") } else { None }),
        ],
    );
    let children = children_json(children);
    if !children.is_empty() {
        object.insert("spans".into(), Value::Array(children));
    }
    if !span.attributes.is_empty() {
        object.insert("metadata".into(), Value::Object(span.attributes.clone()));
    }
    Value::Object(object)
}

/// `TraceSessionStats`.
pub(super) fn session_json(stats: &SessionTraceStats) -> Value {
    let mut object = json!({
        "session_id": stats.session_id,
        "total_traces": stats.total_traces,
        "first_trace_at": time(stats.first_trace_at),
        "last_trace_at": time(stats.last_trace_at),
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    put(
        &mut object,
        &[
            ("user_id", stats.user_id.as_deref()),
            ("agent_id", stats.agent_id.as_deref()),
            ("team_id", stats.team_id.as_deref()),
            ("workflow_id", stats.workflow_id.as_deref()),
        ],
    );
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_read_as_agentos_writes_them() {
        assert_eq!(time(1_700_000_000_123_456), "2023-11-14T22:13:20.123456Z");
        assert_eq!(time(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            (duration(0), duration(999), duration(1000), duration(1234)),
            ("0ms".into(), "999ms".into(), "1.00s".into(), "1.23s".into())
        );
    }
}
