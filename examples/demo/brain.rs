//! The demo brain: a deterministic stand-in for a model that picks tools the way a sensible model would.
//!
//! [`decide`] reads a [`Conversation`] (the system prompt, the names of the
//! offered tools, and the last user turn) and returns an [`Answer`]: on a
//! fresh prompt it calls the one tool that fits, with arguments taken from
//! the prompt, or answers in text; after tool results it always answers in
//! text from them, so a run through the brain ends after at most two model
//! turns. Asked for structured output with a `memories` list (the memory
//! optimizer's request), it answers with the memories deduplicated. Both the offline model ([`super::offline_model`]) and the fake
//! Messages API's responder ([`super::messages_api`]) are thin adapters
//! around it.

use serde_json::{Value, json};

/// What the brain sees of a model request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conversation {
    /// The system prompt (a team leader's lists its members as ``- `id` (...)``).
    pub system: String,
    /// The names of the tools the model may call.
    pub tools: Vec<String>,
    /// The last user turn.
    pub last: LastTurn,
    /// How many messages the conversation has (makes call ids unique within it).
    pub messages: usize,
    /// The JSON schema the answer must match, when the request asks for structured output.
    pub output_schema: Option<Value>,
}

/// The last user turn of a conversation.
#[derive(Clone, Debug, PartialEq)]
pub enum LastTurn {
    /// A prompt.
    Prompt(String),
    /// The results of the calls the model made, in order.
    ToolResults(Vec<ToolOutcome>),
}

impl Default for LastTurn {
    fn default() -> Self {
        Self::Prompt(String::new())
    }
}

/// One tool result.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutcome {
    /// The result as text.
    pub text: String,
    /// Whether the call failed (or the user rejected it).
    pub is_error: bool,
}

/// The brain's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A final text answer (never blank).
    Text(String),
    /// A short note, then one tool call.
    Call {
        /// What the model says before calling (never blank).
        note: String,
        /// The call's id, such as `toolu_demo_1a2b3c4d_2`.
        id: String,
        /// The tool's name.
        name: String,
        /// Its arguments, valid for the tool's schema.
        input: Value,
    },
}

/// Decides the answer to `conversation`.
///
/// On a prompt: a deletion (`delete`, `remove`) calls `delete_city`, a
/// weather question calls `get_weather`, a team leader delegates (or routes)
/// to the member whose id fits the prompt (`approval` for deletions,
/// `weather` for weather, `writer` for writing, else the first), a question
/// about the docs calls `search_knowledge` — each only when that tool is
/// offered; otherwise a text answer. After tool results: a text answer
/// quoting them. A request for `{"memories": [...]}` (see
/// [`optimized_memories`]) is answered with that JSON.
///
/// # Example
///
/// ```
/// use examples::demo::brain::{Answer, Conversation, LastTurn, decide};
///
/// let conversation = Conversation {
///     tools: vec!["get_weather".into()],
///     last: LastTurn::Prompt("What's the weather in Lisbon?".into()),
///     ..Conversation::default()
/// };
/// let Answer::Call { name, input, .. } = decide(&conversation) else { panic!("expected a call") };
/// assert_eq!((name.as_str(), input), ("get_weather", serde_json::json!({"city": "Lisbon"})));
/// ```
pub fn decide(conversation: &Conversation) -> Answer {
    let wants_memories =
        conversation.output_schema.as_ref().is_some_and(|schema| schema.pointer("/properties/memories").is_some());
    if wants_memories && let LastTurn::Prompt(prompt) = &conversation.last {
        return Answer::Text(optimized_memories(prompt).to_string());
    }
    if let (Some(schema), LastTurn::Prompt(prompt)) = (&conversation.output_schema, &conversation.last)
        && let Some(verdict) = judged(schema, prompt)
    {
        return Answer::Text(verdict.to_string());
    }
    match &conversation.last {
        LastTurn::ToolResults(results) => Answer::Text(summarize(results)),
        LastTurn::Prompt(prompt) => match pick_tool(conversation, prompt) {
            Some((name, input)) => Answer::Call {
                note: "Let me check.".to_owned(),
                id: call_id(conversation, prompt),
                name: name.to_owned(),
                input,
            },
            None => Answer::Text(reply_in_text(&conversation.system, prompt)),
        },
    }
}

/// A judge's verdict, when the request is an eval judge's (its output schema
/// asks for `accuracy_score`, `score` or `passed`): the agent's answer
/// (`<agent_output>`) is compared with the expected one
/// (`<expected_output>`) word by word; criteria judges pass answers that
/// are not empty.
fn judged(schema: &Value, prompt: &str) -> Option<Value> {
    let between = |tag: &str| {
        let start = prompt.find(&format!("<{tag}>"))? + tag.len() + 2;
        let end = prompt[start..].find(&format!("</{tag}>"))? + start;
        Some(prompt[start..end].trim().to_lowercase())
    };
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric()).filter(|word| word.len() > 2).map(str::to_owned).collect()
    };
    let answer = between("agent_output").unwrap_or_default();
    if schema.pointer("/properties/accuracy_score").is_some() {
        let expected = words(&between("expected_output").unwrap_or_default());
        let found = expected.iter().filter(|word| answer.contains(word.as_str())).count();
        let score = if expected.is_empty() { 5 } else { 1 + (9 * found / expected.len()) };
        let reason = format!("The answer has {found} of the {} key words of the expected answer.", expected.len());
        return Some(json!({"accuracy_score": score, "accuracy_reason": reason}));
    }
    if schema.pointer("/properties/passed").is_some() {
        return Some(json!({"passed": !answer.is_empty(), "reason": "The answer addresses the request."}));
    }
    if schema.pointer("/properties/score").is_some() {
        let score = if answer.is_empty() { 2 } else { 8 };
        return Some(json!({"score": score, "reason": "The answer addresses the request."}));
    }
    None
}

/// The memory optimizer's answer to its prompt, whose lines `- memory
/// [topic, topic]` list a user's memories: `{"memories": [{"memory",
/// "topics"}]}` with each memory once (compared without case, spacing and
/// final punctuation; the first wording kept, the topics of all merged),
/// in the prompt's order.
///
/// # Example
///
/// ```
/// use serde_json::json;
///
/// let prompt = "The memories, newest first:\n- User likes tea. [drink]\n- user likes tea [food]\n- User is a nurse. []\n";
/// assert_eq!(
///     examples::demo::brain::optimized_memories(prompt),
///     json!({"memories": [
///         {"memory": "User likes tea.", "topics": ["drink", "food"]},
///         {"memory": "User is a nurse.", "topics": []},
///     ]})
/// );
/// ```
pub fn optimized_memories(prompt: &str) -> Value {
    let mut merged: Vec<(String, String, Vec<String>)> = Vec::new();
    for line in prompt.lines().filter_map(|line| line.trim().strip_prefix("- ")) {
        let (memory, topics) = match line.rsplit_once(" [") {
            Some((memory, topics)) => (memory.trim(), topics.trim_end_matches(']')),
            None => (line.trim(), ""),
        };
        if memory.is_empty() {
            continue;
        }
        let topics = topics.split(',').map(str::trim).filter(|topic| !topic.is_empty()).map(str::to_owned);
        let key = memory.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let key = key.trim_end_matches(['.', '!', '?']).to_owned();
        let at = match merged.iter().position(|(known, _, _)| *known == key) {
            Some(at) => at,
            None => {
                merged.push((key, memory.to_owned(), Vec::new()));
                merged.len() - 1
            }
        };
        for topic in topics {
            if !merged[at].2.contains(&topic) {
                merged[at].2.push(topic);
            }
        }
    }
    let memories: Vec<Value> =
        merged.into_iter().map(|(_, memory, topics)| json!({"memory": memory, "topics": topics})).collect();
    json!({ "memories": memories })
}

/// The tool that fits `prompt` among those offered, with its arguments.
fn pick_tool<'a>(conversation: &'a Conversation, prompt: &str) -> Option<(&'a str, Value)> {
    let offered = |name: &str| conversation.tools.iter().find(|tool| *tool == name).map(String::as_str);
    let lower = prompt.to_lowercase();
    let deleting = ["delete", "remove"].iter().any(|word| lower.contains(word));
    let weather = lower.contains("weather");
    let about_docs = ["docs", "documentation", "knowledge", "guide"].iter().any(|word| lower.contains(word));
    if deleting && let Some(tool) = offered("delete_city") {
        return Some((tool, json!({"city": city(prompt)})));
    }
    if weather && let Some(tool) = offered("get_weather") {
        return Some((tool, json!({"city": city(prompt)})));
    }
    if let Some(tool) = offered("delegate_task_to_member").or_else(|| offered("route_to_member")) {
        let member = pick_member(&conversation.system, &lower)?;
        return Some((tool, json!({"member_id": member, "task": prompt})));
    }
    if about_docs && let Some(tool) = offered("search_knowledge") {
        return Some((tool, json!({"query": prompt})));
    }
    None
}

/// The member of a team leader's system prompt that fits the prompt.
fn pick_member(system: &str, lower_prompt: &str) -> Option<String> {
    let members: Vec<&str> = system
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("- `"))
        .filter_map(|rest| rest.split('`').next())
        .filter(|id| !id.is_empty())
        .collect();
    let wanted = if ["delete", "remove"].iter().any(|word| lower_prompt.contains(word)) {
        "approval"
    } else if lower_prompt.contains("weather") {
        "weather"
    } else {
        "writer"
    };
    members.iter().find(|id| id.contains(wanted)).or(members.first()).map(|id| (*id).to_owned())
}

/// The city a prompt is about: its last capitalized word after the first,
/// else the word after "in", else Paris.
fn city(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split(|c: char| !c.is_alphabetic()).filter(|word| !word.is_empty()).collect();
    let capitalized = words.iter().skip(1).rfind(|word| word.chars().next().is_some_and(char::is_uppercase));
    let after_in = words.windows(2).find(|pair| pair[0].eq_ignore_ascii_case("in")).map(|pair| pair[1]);
    let word = capitalized.copied().or(after_in).unwrap_or("Paris");
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_else(|| "Paris".to_owned())
}

/// A text answer from tool results.
fn summarize(results: &[ToolOutcome]) -> String {
    let texts: Vec<&str> = results.iter().map(|result| result.text.trim()).filter(|text| !text.is_empty()).collect();
    let joined = if texts.is_empty() { "(no output)".to_owned() } else { texts.join(" ") };
    if results.iter().all(|result| result.is_error) {
        format!("That was not done: {joined}")
    } else {
        format!("Result: {joined}")
    }
}

/// A text answer to a prompt no tool fits.
fn reply_in_text(system: &str, prompt: &str) -> String {
    let prompt = prompt.trim();
    if prompt.is_empty() {
        return "Hello! Ask me about the weather, or to delete a city.".to_owned();
    }
    if system.to_lowercase().contains("write") {
        format!("Here is a short write-up: {prompt}")
    } else {
        format!("You said: {prompt}")
    }
}

/// A call id stable across runs, unique within its conversation, and
/// different for a team leader and the member it hands the same prompt to
/// (the system prompt and the tools are hashed with the prompt).
fn call_id(conversation: &Conversation, prompt: &str) -> String {
    let parts = [conversation.system.as_str(), prompt].into_iter().chain(conversation.tools.iter().map(String::as_str));
    let hash = parts
        .flat_map(|part| part.bytes().chain([0]))
        .fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    format!("toolu_demo_{hash:08x}_{}", conversation.messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(tools: &[&str], system: &str, text: &str) -> Answer {
        decide(&Conversation {
            system: system.to_owned(),
            tools: tools.iter().map(|tool| (*tool).to_owned()).collect(),
            last: LastTurn::Prompt(text.to_owned()),
            messages: 1,
            output_schema: None,
        })
    }

    fn call(answer: Answer) -> (String, Value) {
        match answer {
            Answer::Call { name, input, .. } => (name, input),
            Answer::Text(text) => panic!("expected a call, got {text:?}"),
        }
    }

    #[test]
    fn fresh_prompts_call_the_tool_that_fits() {
        let tools = ["get_weather", "delete_city", "search_knowledge"];
        assert_eq!(call(prompt(&tools, "", "Weather in Paris?")), ("get_weather".into(), json!({"city": "Paris"})));
        assert_eq!(call(prompt(&tools, "", "what's the weather in oslo")).1, json!({"city": "Oslo"}));
        assert_eq!(call(prompt(&tools, "", "Please delete Lisbon")), ("delete_city".into(), json!({"city": "Lisbon"})));
        assert_eq!(call(prompt(&tools, "", "What do the docs say?")).0, "search_knowledge");
        assert_eq!(prompt(&["get_weather"], "", "Hi there"), Answer::Text("You said: Hi there".into()));
        assert_eq!(prompt(&[], "", "Weather in Paris?"), Answer::Text("You said: Weather in Paris?".into()));
    }

    #[test]
    fn a_leader_delegates_to_the_member_that_fits() {
        let system =
            "You lead the team `t`. Its members:\n- `weather-agent` (agent): W\n- `approval-agent` (agent): A\n";
        let delegate = |text| call(prompt(&["delegate_task_to_member"], system, text)).1;
        assert_eq!(delegate("Weather in Rome?"), json!({"member_id": "weather-agent", "task": "Weather in Rome?"}));
        assert_eq!(delegate("Delete Rome")["member_id"], "approval-agent");
        assert_eq!(delegate("Tell me a story")["member_id"], "weather-agent");
    }

    #[test]
    fn results_are_answered_in_text() {
        let answer = |outcomes: Vec<ToolOutcome>| {
            decide(&Conversation { last: LastTurn::ToolResults(outcomes), ..Conversation::default() })
        };
        let ok = ToolOutcome { text: "It is sunny.".into(), is_error: false };
        let rejected = ToolOutcome { text: "The user rejected the call.".into(), is_error: true };
        assert_eq!(answer(vec![ok]), Answer::Text("Result: It is sunny.".into()));
        assert_eq!(answer(vec![rejected]), Answer::Text("That was not done: The user rejected the call.".into()));
        assert_eq!(answer(Vec::new()), Answer::Text("That was not done: (no output)".into()));
    }

    #[test]
    fn the_memory_optimizer_gets_its_memories_back_deduplicated() {
        let prompt = "The memories, newest first:\n- User likes tea. [drink]\n- User lives in Oslo. [home]\n\
                      - USER LIKES TEA [food, drink]\n";
        let conversation = Conversation {
            last: LastTurn::Prompt(prompt.into()),
            output_schema: Some(json!({"type": "object", "properties": {"memories": {"type": "array"}}})),
            ..Conversation::default()
        };
        let Answer::Text(text) = decide(&conversation) else { panic!("expected JSON text") };
        let answer: Value = serde_json::from_str(&text).expect("the answer is JSON");
        assert_eq!(
            answer,
            json!({"memories": [
                {"memory": "User likes tea.", "topics": ["drink", "food"]},
                {"memory": "User lives in Oslo.", "topics": ["home"]},
            ]})
        );
        // Without the schema it is an ordinary prompt.
        let plain = Conversation { output_schema: None, ..conversation };
        assert!(matches!(decide(&plain), Answer::Text(text) if text.starts_with("You said:")));
    }

    #[test]
    fn call_ids_differ_by_prompt_and_position() {
        let conversation = |messages| Conversation { messages, ..Conversation::default() };
        assert_ne!(call_id(&conversation(1), "a"), call_id(&conversation(3), "a"));
        assert_ne!(call_id(&conversation(1), "a"), call_id(&conversation(1), "b"));
        assert_eq!(call_id(&conversation(1), "a"), call_id(&conversation(1), "a"));
        let leader = Conversation {
            system: "You lead the team".into(),
            tools: vec!["delegate_task_to_member".into()],
            messages: 1,
            ..Conversation::default()
        };
        let member = Conversation { tools: vec!["delete_city".into()], messages: 1, ..Conversation::default() };
        assert_ne!(call_id(&leader, "Delete Rome"), call_id(&member, "Delete Rome"));
    }
}
