//! A whole Messages API message replayed as the event stream the API would send for it.

use serde_json::{Map, Value, json};

/// How many deltas a text, thinking or tool-input block is split into (at most).
const DELTAS_PER_BLOCK: usize = 3;

/// The events of `message` as the API streams it: `message_start` (the
/// message without content, its stop reason still open), then per content
/// block `content_block_start`, its deltas and `content_block_stop`, then
/// `message_delta` with the stop reason and the output tokens, and
/// `message_stop`.
///
/// Text arrives as `text_delta`s, thinking as `thinking_delta`s followed by
/// one `signature_delta`, the input of `tool_use` and `server_tool_use`
/// blocks as `input_json_delta`s of its JSON text; any other block (server
/// tool results, for example) comes whole in its `content_block_start`.
pub(super) fn message_events(message: &Value) -> Vec<Value> {
    let blocks = message.get("content").and_then(Value::as_array).cloned().unwrap_or_default();
    let usage = message.get("usage").cloned().unwrap_or_else(|| json!({"input_tokens": 0, "output_tokens": 0}));
    let mut start = match message {
        Value::Object(fields) => fields.clone(),
        _ => Map::new(),
    };
    start.insert("content".into(), json!([]));
    start.insert("stop_reason".into(), Value::Null);
    start.insert("stop_sequence".into(), Value::Null);
    let mut start_usage = usage.clone();
    start_usage["output_tokens"] = json!(1);
    start.insert("usage".into(), start_usage);

    let mut events = vec![json!({"type": "message_start", "message": start})];
    for (index, block) in blocks.iter().enumerate() {
        events.extend(block_events(index, block));
    }
    let stop_reason = message.get("stop_reason").cloned().unwrap_or_else(|| json!("end_turn"));
    let stop_sequence = message.get("stop_sequence").cloned().unwrap_or(Value::Null);
    let output_tokens = usage.get("output_tokens").cloned().unwrap_or(json!(0));
    events.push(json!({
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
        "usage": {"output_tokens": output_tokens}
    }));
    events.push(json!({"type": "message_stop"}));
    events
}

/// `content_block_start`, the deltas and `content_block_stop` of one block.
fn block_events(index: usize, block: &Value) -> Vec<Value> {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    let text_of = |field: &str| block.get(field).and_then(Value::as_str).unwrap_or("").to_owned();
    let (opening, deltas) = match kind {
        "text" => {
            let mut opening = block.clone();
            opening["text"] = json!("");
            let deltas = pieces(&text_of("text")).map(|text| json!({"type": "text_delta", "text": text})).collect();
            (opening, deltas)
        }
        "thinking" => {
            let deltas: Vec<Value> = pieces(&text_of("thinking"))
                .map(|thinking| json!({"type": "thinking_delta", "thinking": thinking}))
                .chain(std::iter::once(json!({"type": "signature_delta", "signature": text_of("signature")})))
                .collect();
            (json!({"type": "thinking", "thinking": "", "signature": ""}), deltas)
        }
        "tool_use" | "server_tool_use" => {
            let mut opening = block.clone();
            opening["input"] = json!({});
            let input = block.get("input").cloned().unwrap_or_else(|| json!({})).to_string();
            let deltas =
                pieces(&input).map(|partial| json!({"type": "input_json_delta", "partial_json": partial})).collect();
            (opening, deltas)
        }
        _ => (block.clone(), Vec::new()),
    };
    let mut events = vec![json!({"type": "content_block_start", "index": index, "content_block": opening})];
    events
        .extend(deltas.into_iter().map(|delta| json!({"type": "content_block_delta", "index": index, "delta": delta})));
    events.push(json!({"type": "content_block_stop", "index": index}));
    events
}

/// `text` in up to [`DELTAS_PER_BLOCK`] non-empty pieces, cut at character boundaries.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let chars = text.chars().count();
    let size = chars.div_ceil(DELTAS_PER_BLOCK).max(1);
    let mut cuts: Vec<usize> = text.char_indices().map(|(at, _)| at).step_by(size).collect();
    cuts.push(text.len());
    (0..cuts.len().saturating_sub(1)).map(move |piece| &text[cuts[piece]..cuts[piece + 1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_text_at_char_boundaries() {
        for text in ["", "a", "ab", "hello world", "héllo wörld ☀", "abcdefghij"] {
            let parts: Vec<&str> = pieces(text).collect();
            assert_eq!(parts.concat(), text);
            assert!(parts.len() <= DELTAS_PER_BLOCK, "{parts:?}");
            assert!(parts.iter().all(|part| !part.is_empty()), "{parts:?}");
        }
    }

    #[test]
    fn a_tool_call_streams_its_input_as_json_deltas() {
        let message = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
            "content": [{"type": "text", "text": "Let me check."}, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}],
            "stop_reason": "tool_use", "stop_sequence": null, "usage": {"input_tokens": 12, "output_tokens": 7}});
        let events = message_events(&message);
        let kinds: Vec<&str> = events.iter().map(|event| event["type"].as_str().unwrap_or("")).collect();
        assert_eq!(kinds.first(), Some(&"message_start"));
        assert_eq!(&kinds[kinds.len() - 2..], ["message_delta", "message_stop"]);
        assert_eq!(events[0]["message"]["content"], json!([]));
        assert_eq!(events[0]["message"]["stop_reason"], Value::Null);
        let partial: String = events
            .iter()
            .filter(|event| event["index"] == 1 && event["delta"]["type"] == "input_json_delta")
            .filter_map(|event| event["delta"]["partial_json"].as_str())
            .collect();
        assert_eq!(serde_json::from_str::<Value>(&partial).ok(), Some(json!({"city": "Paris"})));
        let delta = &events[events.len() - 2];
        assert_eq!(delta["delta"]["stop_reason"], "tool_use");
        assert_eq!(delta["usage"]["output_tokens"], 7);
    }
}
