//! Closing a run's open tool calls, so a stored conversation stays valid.

use std::collections::HashSet;

use crate::message::{ContentBlock, Message, Role, ToolResultContent};

/// See [`RunRecord::close_open_tool_calls`](super::RunRecord::close_open_tool_calls).
pub(crate) fn close_open_tool_calls(messages: &mut Vec<Message>, reason: &str) -> usize {
    let mut added = 0;
    let mut index = 0;
    while index < messages.len() {
        let calls: Vec<String> = match messages[index].role {
            Role::Assistant => messages[index].tool_calls().map(|call| call.id.to_owned()).collect(),
            Role::User => Vec::new(),
        };
        index += 1;
        if calls.is_empty() {
            continue;
        }
        let next_is_user = messages.get(index).is_some_and(|next| next.role == Role::User);
        if !next_is_user {
            messages.insert(index, Message::new(Role::User, Vec::new()));
        }
        let answered: HashSet<&str> = messages[index]
            .content
            .iter()
            .filter_map(|block| match block {
                ContentBlock::ToolResult { tool_call_id, .. } => Some(tool_call_id.as_str()),
                _ => None,
            })
            .collect();
        if calls.iter().all(|id| answered.contains(id.as_str())) {
            continue;
        }
        // Rebuild the reply: one result per call in call order, then the other blocks.
        let mut rest = std::mem::take(&mut messages[index].content);
        let mut content = Vec::with_capacity(calls.len() + rest.len());
        for id in &calls {
            let found = rest
                .iter()
                .position(|block| matches!(block, ContentBlock::ToolResult { tool_call_id, .. } if tool_call_id == id));
            match found {
                Some(position) => content.push(rest.remove(position)),
                None => {
                    content.push(ContentBlock::tool_result(id.clone(), ToolResultContent::Text(reason.into()), true));
                    added += 1;
                }
            }
        }
        content.append(&mut rest);
        messages[index].content = content;
    }
    added
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(id: &str) -> ContentBlock {
        ContentBlock::ToolUse { id: id.into(), name: "lookup".into(), input: json!({}) }
    }

    fn result(id: &str, text: &str, is_error: bool) -> ContentBlock {
        ContentBlock::tool_result(id, ToolResultContent::Text(text.into()), is_error)
    }

    #[test]
    fn every_call_gets_a_result_in_call_order_before_other_blocks() {
        let mut messages = vec![
            Message::user("go"),
            Message::new(Role::Assistant, vec![call("c1"), call("c2"), call("c3")]),
            Message::new(Role::User, vec![ContentBlock::text("note"), result("c2", "two", false)]),
            Message::new(Role::Assistant, vec![call("c4")]),
        ];
        assert_eq!(close_open_tool_calls(&mut messages, "stopped"), 3);
        assert_eq!(messages.len(), 5, "a reply is added after the last call");
        assert_eq!(
            messages[2].content,
            vec![
                result("c1", "stopped", true),
                result("c2", "two", false),
                result("c3", "stopped", true),
                ContentBlock::text("note")
            ]
        );
        assert_eq!(messages[4], Message::new(Role::User, vec![result("c4", "stopped", true)]));
        assert_eq!(close_open_tool_calls(&mut messages, "again"), 0, "closing twice adds nothing");
    }

    #[test]
    fn two_assistant_messages_in_a_row_get_a_reply_between_them() {
        let mut messages = vec![
            Message::new(Role::Assistant, vec![call("c1")]),
            Message::new(Role::Assistant, vec![ContentBlock::text("more")]),
        ];
        assert_eq!(close_open_tool_calls(&mut messages, "stopped"), 1);
        assert_eq!(messages[1], Message::new(Role::User, vec![result("c1", "stopped", true)]));
        assert_eq!(messages[2].role, Role::Assistant);
    }
}
