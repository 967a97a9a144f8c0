//! The fields of one open span as the layer keeps them: the display name, status, duration, input and output apart, the rest as attributes.

use agent_core::trace::SpanStatus;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};

/// What the span's fields said so far.
#[derive(Debug, Default)]
pub(super) struct Fields {
    /// `otel.name`.
    pub(super) name: Option<String>,
    /// `otel.status_code`.
    pub(super) status: Option<SpanStatus>,
    /// `otel.status_message`.
    pub(super) status_message: Option<String>,
    /// `duration_ms`, by the runtime's clock.
    pub(super) duration_ms: Option<f64>,
    pub(super) input: Option<String>,
    pub(super) output: Option<String>,
    pub(super) attributes: Map<String, Value>,
}

/// Records field values into [`Fields`], cutting long text at `max_text` bytes.
pub(super) struct Recorder<'a> {
    pub(super) fields: &'a mut Fields,
    pub(super) max_text: usize,
}

impl Recorder<'_> {
    fn cut(max_text: usize, text: &str) -> String {
        let mut text = text.to_owned();
        if text.len() > max_text {
            let mut cut = max_text;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }

    fn text(&mut self, field: &Field, text: &str) {
        let max_text = self.max_text;
        let slot = match field.name() {
            "otel.status_code" => {
                self.fields.status = SpanStatus::parse(text);
                return;
            }
            "otel.name" => &mut self.fields.name,
            "otel.status_message" => &mut self.fields.status_message,
            "input" => &mut self.fields.input,
            "output" => &mut self.fields.output,
            other => {
                let text = Self::cut(self.max_text, text);
                self.fields.attributes.insert(other.to_owned(), Value::String(text));
                return;
            }
        };
        *slot = Some(Self::cut(max_text, text));
    }

    fn value(&mut self, field: &Field, value: Value) {
        self.fields.attributes.insert(field.name().to_owned(), value);
    }
}

impl Visit for Recorder<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%value` fields arrive here too, formatted with `Display`.
        self.text(field, &format!("{value:?}"));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, &value.to_string());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.value(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.value(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.value(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "duration_ms" {
            self.fields.duration_ms = Some(value);
            return;
        }
        self.value(field, serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number));
    }
}
