//! A finished trace as it is stored: its spans, the summary derived from its root span, and the span tree.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a span stands for; its wire name is the AgentOS `TraceNode.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SpanKind {
    /// An agent's run (`agent.run`).
    Agent,
    /// A team's run (`team.run`).
    Team,
    /// A workflow's run (`workflow.run`).
    Workflow,
    /// One model call (`model.call`).
    Llm,
    /// One tool call (`tool.call`).
    Tool,
    /// A team handing a task to a member (`team.delegate`).
    Delegation,
    /// One workflow step (`workflow.step`).
    Step,
}

impl SpanKind {
    /// Every kind.
    pub const ALL: [Self; 7] =
        [Self::Agent, Self::Team, Self::Workflow, Self::Llm, Self::Tool, Self::Delegation, Self::Step];

    /// The `tracing` span name of this kind (`agent.run`, `model.call`, ...).
    pub fn span_name(self) -> &'static str {
        match self {
            Self::Agent => "agent.run",
            Self::Team => "team.run",
            Self::Workflow => "workflow.run",
            Self::Llm => "model.call",
            Self::Tool => "tool.call",
            Self::Delegation => "team.delegate",
            Self::Step => "workflow.step",
        }
    }

    /// The kind of a span the loop emits, by its `tracing` name.
    pub fn from_span_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.span_name() == name)
    }

    /// The wire name: `AGENT`, `TEAM`, `WORKFLOW`, `LLM`, `TOOL`, `DELEGATION`, `STEP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "AGENT",
            Self::Team => "TEAM",
            Self::Workflow => "WORKFLOW",
            Self::Llm => "LLM",
            Self::Tool => "TOOL",
            Self::Delegation => "DELEGATION",
            Self::Step => "STEP",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Whether the span is a run (agent, team or workflow).
    pub fn is_run(self) -> bool {
        matches!(self, Self::Agent | Self::Team | Self::Workflow)
    }
}

/// How a span ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SpanStatus {
    /// It did its work.
    Ok,
    /// It failed (`status_message` says why).
    Error,
    /// It ended without saying: its work was dropped before it finished
    /// (a cancelled run's tool call, say).
    #[default]
    Unset,
}

impl SpanStatus {
    /// `OK`, `ERROR` or `UNSET`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Error => "ERROR",
            Self::Unset => "UNSET",
        }
    }

    /// Parses `OK`, `ERROR` or `UNSET` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Ok, Self::Error, Self::Unset].into_iter().find(|status| status.as_str().eq_ignore_ascii_case(text))
    }
}

/// One finished span of a trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpanRecord {
    /// The trace it belongs to.
    pub trace_id: String,
    /// Unique within its trace.
    pub span_id: String,
    /// The span it ran inside; `None` for the trace's root.
    pub parent_span_id: Option<String>,
    /// The display name (`otel.name`).
    pub name: String,
    /// What it stands for.
    pub kind: SpanKind,
    /// How it ended.
    pub status: SpanStatus,
    /// The error, when it failed.
    pub status_message: Option<String>,
    /// Unix microseconds.
    pub start_time: i64,
    /// Unix microseconds.
    pub end_time: i64,
    /// What it was given (a run's input, a tool call's arguments, a task).
    pub input: Option<String>,
    /// What it produced (an answer, a tool result).
    pub output: Option<String>,
    /// Every other field recorded on it (`run_id`, `model`, `input_tokens`, ...).
    pub attributes: Map<String, Value>,
}

impl SpanRecord {
    /// How long it took, in microseconds.
    pub fn duration_micros(&self) -> i64 {
        self.end_time.saturating_sub(self.start_time).max(0)
    }

    /// A text attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Value::as_str)
    }
}

/// One line of a trace list: what the trace's root span says about the whole.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    /// The trace's id.
    pub trace_id: String,
    /// The root span's name (`Weather Agent.run`).
    pub name: String,
    /// The root span's status.
    pub status: SpanStatus,
    /// Unix microseconds the root span started.
    pub start_time: i64,
    /// Unix microseconds the root span ended.
    pub end_time: i64,
    /// Whole milliseconds the root span took.
    pub duration_ms: i64,
    /// Spans in the trace.
    pub total_spans: u32,
    /// Spans that failed.
    pub error_count: u32,
    /// The root run's id.
    pub run_id: Option<String>,
    /// The root run's session.
    pub session_id: Option<String>,
    /// The root run's user.
    pub user_id: Option<String>,
    /// The root agent, when the trace is an agent's run.
    pub agent_id: Option<String>,
    /// The root team, when the trace is a team's run.
    pub team_id: Option<String>,
    /// The root workflow, when the trace is a workflow's run.
    pub workflow_id: Option<String>,
    /// The root run's input.
    pub input: Option<String>,
    /// The root run's answer.
    pub output: Option<String>,
    /// Why the root run failed.
    pub error: Option<String>,
    /// Unix microseconds the trace was recorded (its start).
    pub created_at: i64,
}

/// A whole trace: its summary and its spans, root first, in the order they started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// What the root span says about the whole.
    pub summary: TraceSummary,
    /// Every span, root first, in the order they started.
    pub spans: Vec<SpanRecord>,
}

impl Trace {
    /// The trace of these spans (in the order they started): its summary
    /// comes from the root, the span without a parent. `None` without one.
    pub fn from_spans(spans: Vec<SpanRecord>) -> Option<Self> {
        let root = spans.iter().find(|span| span.parent_span_id.is_none())?;
        let text = |name: &str| root.attribute(name).map(str::to_owned);
        let errors = spans.iter().filter(|span| span.status == SpanStatus::Error).count();
        let summary = TraceSummary {
            trace_id: root.trace_id.clone(),
            name: root.name.clone(),
            status: root.status,
            start_time: root.start_time,
            end_time: root.end_time,
            duration_ms: root.duration_micros() / 1000,
            total_spans: u32::try_from(spans.len()).unwrap_or(u32::MAX),
            error_count: u32::try_from(errors).unwrap_or(u32::MAX),
            run_id: text("run_id"),
            session_id: text("session_id"),
            user_id: text("user_id"),
            agent_id: if root.kind == SpanKind::Agent { text("agent_id") } else { None },
            team_id: if root.kind == SpanKind::Team { text("team_id") } else { None },
            workflow_id: if root.kind == SpanKind::Workflow { text("workflow_id") } else { None },
            input: root.input.clone(),
            output: if root.status == SpanStatus::Error { None } else { root.output.clone() },
            error: if root.status == SpanStatus::Error { root.status_message.clone() } else { None },
            created_at: root.start_time,
        };
        Some(Self { summary, spans })
    }

    /// The span with this id.
    pub fn span(&self, span_id: &str) -> Option<&SpanRecord> {
        self.spans.iter().find(|span| span.span_id == span_id)
    }

    /// The spans as a tree: the roots (one, for traces the loop emits), each
    /// with its children in the order they started. A span whose parent is
    /// not in the trace is a root too.
    pub fn tree(&self) -> Vec<SpanNode<'_>> {
        let mut children: HashMap<&str, Vec<&SpanRecord>> = HashMap::new();
        let known: HashSet<&str> = self.spans.iter().map(|span| span.span_id.as_str()).collect();
        let mut roots = Vec::new();
        for span in &self.spans {
            match span.parent_span_id.as_deref().filter(|parent| known.contains(parent)) {
                Some(parent) => children.entry(parent).or_default().push(span),
                None => roots.push(span),
            }
        }
        roots.into_iter().map(|root| node(root, &mut children)).collect()
    }
}

/// A span's node; each span is taken out of `children` once, so a cycle of
/// parent links (from a corrupt store) cannot recurse forever.
fn node<'a>(span: &'a SpanRecord, children: &mut HashMap<&str, Vec<&'a SpanRecord>>) -> SpanNode<'a> {
    let own = children.remove(span.span_id.as_str()).unwrap_or_default();
    SpanNode { span, children: own.into_iter().map(|child| node(child, children)).collect() }
}

/// A span with the spans that ran inside it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanNode<'a> {
    /// The span.
    pub span: &'a SpanRecord,
    /// Its children, in the order they started.
    pub children: Vec<SpanNode<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>, kind: SpanKind, status: SpanStatus) -> SpanRecord {
        SpanRecord {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_span_id: parent.map(str::to_owned),
            name: id.into(),
            kind,
            status,
            status_message: (status == SpanStatus::Error).then(|| "boom".to_owned()),
            start_time: 1_000_000,
            end_time: 2_500_000,
            input: Some("in".into()),
            output: Some("out".into()),
            attributes: serde_json::json!({"run_id": "r1", "agent_id": "a1", "team_id": "t1"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    }

    #[test]
    fn the_summary_comes_from_the_root_and_counts_errors() {
        let spans = vec![
            span("root", None, SpanKind::Agent, SpanStatus::Ok),
            span("llm", Some("root"), SpanKind::Llm, SpanStatus::Ok),
            span("tool", Some("root"), SpanKind::Tool, SpanStatus::Error),
        ];
        let trace = Trace::from_spans(spans).expect("a root");
        let summary = &trace.summary;
        assert_eq!((summary.total_spans, summary.error_count, summary.duration_ms), (3, 1, 1500));
        assert_eq!((summary.agent_id.as_deref(), summary.team_id.as_deref()), (Some("a1"), None));
        assert_eq!((summary.output.as_deref(), summary.error.as_deref()), (Some("out"), None));
        let tree = trace.tree();
        assert_eq!(tree.len(), 1);
        let children: Vec<&str> = tree[0].children.iter().map(|node| node.span.span_id.as_str()).collect();
        assert_eq!(children, ["llm", "tool"]);
        assert!(Trace::from_spans(vec![span("orphan", Some("x"), SpanKind::Tool, SpanStatus::Ok)]).is_none());
    }

    #[test]
    fn a_failed_root_gives_the_error_not_the_output() {
        let trace = Trace::from_spans(vec![span("root", None, SpanKind::Team, SpanStatus::Error)]).expect("a root");
        assert_eq!((trace.summary.output, trace.summary.error.as_deref()), (None, Some("boom")));
        assert_eq!(trace.summary.team_id.as_deref(), Some("t1"));
    }

    #[test]
    fn kinds_and_statuses_round_trip_their_names() {
        for kind in SpanKind::ALL {
            assert_eq!(SpanKind::from_span_name(kind.span_name()), Some(kind));
            assert_eq!(SpanKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SpanStatus::parse("error"), Some(SpanStatus::Error));
        assert_eq!(SpanStatus::parse("nope"), None);
    }
}
