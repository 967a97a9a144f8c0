//! Filter expressions over traces (AgentOS's `FilterExpr`): parsed from JSON, checked, and evaluated with SQL's three-valued logic so every store agrees.

use std::cmp::Ordering;

use serde_json::Value;

use super::record::TraceSummary;

/// Filters nest at most this deep (as AgentOS limits them).
pub const MAX_FILTER_DEPTH: usize = 10;

/// A field of a trace a filter can test; its name is the `key` of a filter
/// and the column of the SQL stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceField {
    /// `trace_id` (text).
    TraceId,
    /// `name` (text): the root span's name.
    Name,
    /// `status` (text): `OK`, `ERROR` or `UNSET`.
    Status,
    /// `start_time` (a time).
    StartTime,
    /// `end_time` (a time).
    EndTime,
    /// `duration_ms` (whole milliseconds).
    DurationMs,
    /// `run_id` (text).
    RunId,
    /// `session_id` (text).
    SessionId,
    /// `user_id` (text).
    UserId,
    /// `agent_id` (text).
    AgentId,
    /// `team_id` (text).
    TeamId,
    /// `workflow_id` (text).
    WorkflowId,
    /// `created_at` (a time).
    CreatedAt,
}

impl TraceField {
    /// Every field.
    pub const ALL: [Self; 13] = [
        Self::TraceId,
        Self::Name,
        Self::Status,
        Self::StartTime,
        Self::EndTime,
        Self::DurationMs,
        Self::RunId,
        Self::SessionId,
        Self::UserId,
        Self::AgentId,
        Self::TeamId,
        Self::WorkflowId,
        Self::CreatedAt,
    ];

    /// The key (and column) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TraceId => "trace_id",
            Self::Name => "name",
            Self::Status => "status",
            Self::StartTime => "start_time",
            Self::EndTime => "end_time",
            Self::DurationMs => "duration_ms",
            Self::RunId => "run_id",
            Self::SessionId => "session_id",
            Self::UserId => "user_id",
            Self::AgentId => "agent_id",
            Self::TeamId => "team_id",
            Self::WorkflowId => "workflow_id",
            Self::CreatedAt => "created_at",
        }
    }

    /// The field with this key.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.as_str() == key)
    }

    /// Whether the field holds text (the others hold integers: times in
    /// unix microseconds, durations in milliseconds).
    pub fn is_text(self) -> bool {
        !matches!(self, Self::StartTime | Self::EndTime | Self::DurationMs | Self::CreatedAt)
    }

    /// Whether the field is a time.
    pub fn is_time(self) -> bool {
        matches!(self, Self::StartTime | Self::EndTime | Self::CreatedAt)
    }

    fn value(self, trace: &TraceSummary) -> Option<FilterValueRef<'_>> {
        fn text(value: &Option<String>) -> Option<FilterValueRef<'_>> {
            value.as_deref().map(FilterValueRef::Text)
        }
        match self {
            Self::TraceId => Some(FilterValueRef::Text(&trace.trace_id)),
            Self::Name => Some(FilterValueRef::Text(&trace.name)),
            Self::Status => Some(FilterValueRef::Text(trace.status.as_str())),
            Self::StartTime => Some(FilterValueRef::Int(trace.start_time)),
            Self::EndTime => Some(FilterValueRef::Int(trace.end_time)),
            Self::DurationMs => Some(FilterValueRef::Int(trace.duration_ms)),
            Self::CreatedAt => Some(FilterValueRef::Int(trace.created_at)),
            Self::RunId => text(&trace.run_id),
            Self::SessionId => text(&trace.session_id),
            Self::UserId => text(&trace.user_id),
            Self::AgentId => text(&trace.agent_id),
            Self::TeamId => text(&trace.team_id),
            Self::WorkflowId => text(&trace.workflow_id),
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `EQ`.
    Eq,
    /// `NEQ`.
    Neq,
    /// `GT`.
    Gt,
    /// `GTE`.
    Gte,
    /// `LT`.
    Lt,
    /// `LTE`.
    Lte,
}

impl Comparison {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Neq => "<>",
            Self::Gt => ">",
            Self::Gte => ">=",
            Self::Lt => "<",
            Self::Lte => "<=",
        }
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Eq => ordering.is_eq(),
            Self::Neq => ordering.is_ne(),
            Self::Gt => ordering.is_gt(),
            Self::Gte => ordering.is_ge(),
            Self::Lt => ordering.is_lt(),
            Self::Lte => ordering.is_le(),
        }
    }
}

/// A value a field is compared with: text for text fields, an integer for
/// the others (unix microseconds for times, milliseconds for durations).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FilterValue {
    /// For a text field.
    Text(String),
    /// For a time or a duration.
    Int(i64),
}

impl From<&str> for FilterValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for FilterValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for FilterValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum FilterValueRef<'a> {
    Text(&'a str),
    Int(i64),
}

impl FilterValue {
    fn as_ref(&self) -> FilterValueRef<'_> {
        match self {
            Self::Text(text) => FilterValueRef::Text(text),
            Self::Int(value) => FilterValueRef::Int(*value),
        }
    }
}

/// Why a filter is not valid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(String);

impl FilterError {
    pub(super) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// A filter over traces: comparisons of fields, combined with `AND`, `OR`
/// and `NOT`.
///
/// A test of a field a trace does not have (a `team_id` of an agent's run)
/// is neither true nor false, as in SQL: `NEQ` does not match it, nor does
/// `NOT` of a test on it. `CONTAINS` and `STARTSWITH` ignore ASCII case.
///
/// # Example
///
/// ```
/// use agent_core::trace::{TraceField, TraceFilter};
///
/// let filter = TraceFilter::from_json(&serde_json::json!({
///     "op": "AND",
///     "conditions": [
///         {"op": "EQ", "key": "status", "value": "OK"},
///         {"op": "CONTAINS", "key": "agent_id", "value": "weather"},
///     ],
/// }))?;
/// assert_eq!(filter, TraceFilter::And(vec![
///     TraceFilter::eq(TraceField::Status, "OK"),
///     TraceFilter::Contains { field: TraceField::AgentId, text: "weather".into() },
/// ]));
/// assert!(TraceFilter::from_json(&serde_json::json!({"op": "EQ", "key": "colour", "value": "red"})).is_err());
/// # Ok::<_, agent_core::trace::FilterError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum TraceFilter {
    /// `field op value`.
    Compare {
        /// The field tested.
        field: TraceField,
        /// How.
        op: Comparison,
        /// Against what.
        value: FilterValue,
    },
    /// The field equals one of the values (none: nothing matches).
    In {
        /// The field tested.
        field: TraceField,
        /// The values.
        values: Vec<FilterValue>,
    },
    /// A text field contains the text (ASCII case ignored).
    Contains {
        /// The field tested.
        field: TraceField,
        /// The text.
        text: String,
    },
    /// A text field starts with the text (ASCII case ignored).
    StartsWith {
        /// The field tested.
        field: TraceField,
        /// The text.
        text: String,
    },
    /// Every filter holds.
    And(Vec<TraceFilter>),
    /// One of the filters holds.
    Or(Vec<TraceFilter>),
    /// The filter does not hold.
    Not(Box<TraceFilter>),
}

impl TraceFilter {
    /// `field = value`.
    pub fn eq(field: TraceField, value: impl Into<FilterValue>) -> Self {
        Self::compare(field, Comparison::Eq, value)
    }

    /// `field op value`.
    pub fn compare(field: TraceField, op: Comparison, value: impl Into<FilterValue>) -> Self {
        Self::Compare { field, op, value: value.into() }
    }

    /// Parses AgentOS's `FilterExpr` JSON: `{"op": "EQ", "key": ..., "value": ...}`
    /// (also `NEQ`, `GT`, `GTE`, `LT`, `LTE`, `CONTAINS`, `STARTSWITH`),
    /// `{"op": "IN", "key": ..., "values": [...]}`, `{"op": "AND" | "OR",
    /// "conditions": [...]}` and `{"op": "NOT", "condition": ...}`. Times are
    /// ISO 8601 (`2025-11-19T10:00:00Z`, with a fraction or an offset) or
    /// unix seconds; durations whole milliseconds.
    ///
    /// # Errors
    ///
    /// [`FilterError`] for an unknown operator or key, a missing part, a
    /// value of the wrong type, or nesting deeper than [`MAX_FILTER_DEPTH`].
    pub fn from_json(json: &Value) -> Result<Self, FilterError> {
        super::expr::parse(json, 0)
    }

    /// Checks that every value fits its field and every text test is on a
    /// text field (filters built by hand may not; parsed ones always do).
    ///
    /// # Errors
    ///
    /// [`FilterError`] naming the first misfit.
    pub fn check(&self) -> Result<(), FilterError> {
        self.check_at(0)
    }

    fn check_at(&self, depth: usize) -> Result<(), FilterError> {
        if depth > MAX_FILTER_DEPTH {
            return Err(too_deep());
        }
        let fits = |field: TraceField, value: &FilterValue| match (field.is_text(), value) {
            (true, FilterValue::Text(_)) | (false, FilterValue::Int(_)) => Ok(()),
            _ => Err(FilterError::new(format!("`{}` takes {}", field.as_str(), expected(field)))),
        };
        match self {
            Self::Compare { field, value, .. } => fits(*field, value),
            Self::In { field, values } => values.iter().try_for_each(|value| fits(*field, value)),
            Self::Contains { field, .. } | Self::StartsWith { field, .. } if !field.is_text() => {
                Err(FilterError::new(format!("`{}` is not text: CONTAINS and STARTSWITH test text", field.as_str())))
            }
            Self::Contains { .. } | Self::StartsWith { .. } => Ok(()),
            Self::And(filters) | Self::Or(filters) => filters.iter().try_for_each(|filter| filter.check_at(depth + 1)),
            Self::Not(filter) => filter.check_at(depth + 1),
        }
    }

    /// Whether the trace matches (a test that is neither true nor false does not).
    pub fn matches(&self, trace: &TraceSummary) -> bool {
        self.eval(trace) == Some(true)
    }

    /// Three-valued: `None` when a field the result depends on is missing.
    fn eval(&self, trace: &TraceSummary) -> Option<bool> {
        match self {
            Self::Compare { field, op, value } => {
                let found = field.value(trace)?;
                match (found, value.as_ref()) {
                    (FilterValueRef::Text(a), FilterValueRef::Text(b)) => Some(op.holds(a.cmp(b))),
                    (FilterValueRef::Int(a), FilterValueRef::Int(b)) => Some(op.holds(a.cmp(&b))),
                    _ => None,
                }
            }
            Self::In { field, values } => {
                let found = field.value(trace);
                if values.is_empty() {
                    return Some(false);
                }
                let found = found?;
                Some(values.iter().any(|value| value.as_ref() == found))
            }
            Self::Contains { field, text } => match field.value(trace)? {
                FilterValueRef::Text(found) => Some(found.to_ascii_lowercase().contains(&text.to_ascii_lowercase())),
                FilterValueRef::Int(_) => None,
            },
            Self::StartsWith { field, text } => match field.value(trace)? {
                FilterValueRef::Text(found) => Some(found.to_ascii_lowercase().starts_with(&text.to_ascii_lowercase())),
                FilterValueRef::Int(_) => None,
            },
            Self::And(filters) => {
                let mut unknown = false;
                for filter in filters {
                    match filter.eval(trace) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown { None } else { Some(true) }
            }
            Self::Or(filters) => {
                let mut unknown = false;
                for filter in filters {
                    match filter.eval(trace) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { None } else { Some(false) }
            }
            Self::Not(filter) => filter.eval(trace).map(|holds| !holds),
        }
    }
}

pub(super) fn too_deep() -> FilterError {
    FilterError::new(format!("Filter expression exceeds maximum nesting depth of {MAX_FILTER_DEPTH}"))
}

pub(super) fn expected(field: TraceField) -> &'static str {
    if field.is_text() {
        "a string"
    } else if field.is_time() {
        "a time (ISO 8601, or unix seconds)"
    } else {
        "whole milliseconds"
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::trace::SpanStatus;

    fn trace() -> TraceSummary {
        TraceSummary {
            trace_id: "abc".into(),
            name: "Weather Agent.run".into(),
            status: SpanStatus::Ok,
            start_time: 1_700_000_000_000_000,
            duration_ms: 1500,
            agent_id: Some("weather".into()),
            ..TraceSummary::default()
        }
    }

    fn parsed(json: Value) -> TraceFilter {
        TraceFilter::from_json(&json).expect("a valid filter")
    }

    #[test]
    fn comparisons_and_text_tests() {
        let trace = trace();
        let cases = [
            (json!({"op": "EQ", "key": "status", "value": "OK"}), true),
            (json!({"op": "NEQ", "key": "status", "value": "OK"}), false),
            (json!({"op": "GT", "key": "duration_ms", "value": 1000}), true),
            (json!({"op": "LTE", "key": "duration_ms", "value": 1499}), false),
            (json!({"op": "GTE", "key": "start_time", "value": "2023-11-14T22:13:20Z"}), true),
            (json!({"op": "GT", "key": "start_time", "value": "2023-11-14T22:13:20Z"}), false),
            (json!({"op": "LT", "key": "start_time", "value": "2023-11-14T23:13:21+01:00"}), true),
            (json!({"op": "GTE", "key": "start_time", "value": 1_700_000_000}), true),
            (json!({"op": "IN", "key": "agent_id", "values": ["a", "weather"]}), true),
            (json!({"op": "IN", "key": "agent_id", "values": []}), false),
            (json!({"op": "CONTAINS", "key": "name", "value": "AGENT"}), true),
            (json!({"op": "STARTSWITH", "key": "name", "value": "weather"}), true),
            (json!({"op": "STARTSWITH", "key": "name", "value": "agent"}), false),
            (json!({"op": "NOT", "condition": {"op": "EQ", "key": "status", "value": "ERROR"}}), true),
        ];
        for (json, expected) in cases {
            assert_eq!(parsed(json.clone()).matches(&trace), expected, "{json}");
        }
    }

    #[test]
    fn a_missing_field_is_neither_true_nor_false() {
        let trace = trace();
        let team_neq = json!({"op": "NEQ", "key": "team_id", "value": "x"});
        assert!(!parsed(team_neq.clone()).matches(&trace));
        assert!(!parsed(json!({"op": "NOT", "condition": team_neq.clone()})).matches(&trace));
        let ok = json!({"op": "EQ", "key": "status", "value": "OK"});
        assert!(parsed(json!({"op": "OR", "conditions": [team_neq.clone(), ok.clone()]})).matches(&trace));
        assert!(!parsed(json!({"op": "AND", "conditions": [team_neq, ok]})).matches(&trace));
    }
}
