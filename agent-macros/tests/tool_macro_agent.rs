//! `#[tool]` and `#[toolkit]` tools run by an `Agent` with the test models.
#![allow(clippy::unwrap_used)]

use std::sync::Mutex;

use agent_core::testing::{ScriptedModel, TestModel, Turn};
use agent_core::{Agent, ContentBlock, Error, Role, RunContext, ToolError, tool, toolkit};
use serde_json::json;

/// Temperature unit.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// Gets the current weather for a city.
///
/// # Arguments
///
/// * `city` - City name.
/// * `unit` - Temperature unit.
#[tool]
async fn get_weather(city: String, unit: Option<Unit>) -> Result<String, String> {
    match (city.as_str(), unit) {
        ("Atlantis", _) => Err(format!("no weather station in {city}; ask the user for another city")),
        (_, Some(Unit::Fahrenheit)) => Ok(format!("72°F in {city}")),
        _ => Ok(format!("22°C in {city}")),
    }
}

struct Bank {
    currency: &'static str,
}

/// Reads the balance of an account.
///
/// # Arguments
///
/// * `account` - Account number.
#[tool]
fn balance(ctx: &RunContext<Bank>, account: u32) -> Result<String, ToolError> {
    if account == 0 {
        return Err(ToolError::fatal("account 0 is closed"));
    }
    Ok(format!("{} 100 on {account}", ctx.deps().currency))
}

#[derive(Default)]
struct Notes {
    lines: Mutex<Vec<String>>,
}

#[toolkit(instructions = "Use the notes tools to remember things.")]
impl Notes {
    /// Adds a note and returns how many there are.
    ///
    /// # Arguments
    ///
    /// * `text` - The note.
    #[tool]
    fn add_note(&self, text: String) -> usize {
        let mut lines = self.lines.lock().unwrap();
        lines.push(text);
        lines.len()
    }

    /// Lists the notes.
    #[tool]
    async fn list_notes(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// The tool results the model received in request `index`: (id, text, is_error).
fn results_sent(model: &ScriptedModel, index: usize) -> Vec<(String, String, bool)> {
    let request = &model.requests()[index];
    let last = request.messages.last().unwrap();
    assert_eq!(last.role, Role::User);
    last.content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolResult { tool_call_id, content, is_error } => {
                Some((tool_call_id.clone(), content.to_text(), *is_error))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn test_model_calls_the_generated_tool_with_schema_valid_arguments() {
    let agent = Agent::builder(TestModel::new()).tool(GetWeather).build().unwrap();
    let output = agent.run("weather?").await.unwrap();
    assert_eq!(output.metrics.tool_calls["get_weather"].calls, 1);
    assert!(output.content.contains("in "), "{}", output.content);
    assert_eq!(agent.tool_defs()[0].name, "get_weather");
}

#[tokio::test]
async fn bad_arguments_are_retried_with_the_parser_message() {
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "get_weather", json!({"city": "Paris", "unit": "kelvin"})),
        Turn::tool_call("c2", "get_weather", json!({"city": "Paris", "unit": "fahrenheit"})),
        Turn::text("72°F in Paris."),
    ]);
    let agent = Agent::builder(model.clone()).tool(GetWeather).build().unwrap();
    let output = agent.run("weather in Paris?").await.unwrap();
    assert_eq!(
        results_sent(&model, 1),
        [(
            "c1".into(),
            "invalid arguments: `unit`: unknown variant `kelvin`, expected `celsius` or `fahrenheit`. \
             Fix the arguments and call the tool again."
                .into(),
            true
        )]
    );
    assert_eq!(results_sent(&model, 2), [("c2".into(), "72°F in Paris".into(), false)]);
    assert_eq!(output.content, "72°F in Paris.");
    model.assert_complete();
}

#[tokio::test]
async fn an_error_result_goes_back_as_is_error_and_the_model_recovers() {
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "get_weather", json!({"city": "Atlantis"})),
        Turn::tool_call("c2", "get_weather", json!({"city": "Lisbon"})),
        Turn::text("22°C in Lisbon."),
    ]);
    let agent = Agent::builder(model.clone()).tool(GetWeather).build().unwrap();
    agent.run("weather in Atlantis?").await.unwrap();
    assert_eq!(
        results_sent(&model, 1),
        [("c1".into(), "no weather station in Atlantis; ask the user for another city".into(), true)]
    );
    assert_eq!(results_sent(&model, 2), [("c2".into(), "22°C in Lisbon".into(), false)]);
    model.assert_complete();
}

#[tokio::test]
async fn the_context_carries_the_agent_deps_and_fatal_errors_stop_the_run() {
    let model = ScriptedModel::new([Turn::tool_call("c1", "balance", json!({"account": 7})), Turn::text("done")]);
    let agent = Agent::with_deps(model.clone(), Bank { currency: "EUR" }).tool(Balance).build().unwrap();
    agent.run("balance?").await.unwrap();
    assert_eq!(results_sent(&model, 1), [("c1".into(), "EUR 100 on 7".into(), false)]);

    let model = ScriptedModel::new([Turn::tool_call("c1", "balance", json!({"account": 0}))]);
    let agent = Agent::with_deps(model.clone(), Bank { currency: "EUR" }).tool(Balance).build().unwrap();
    let error = agent.run("balance?").await.unwrap_err();
    assert!(matches!(error, Error::ToolFailed { .. }), "{error:?}");
    assert!(error.report().contains("account 0 is closed"), "{}", error.report());
}

#[tokio::test]
async fn toolkit_tools_share_the_value_and_add_instructions() {
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "add_note", json!({"text": "buy milk"})),
        Turn::tool_call("c2", "add_note", json!({"text": "call Ada"})),
        Turn::tool_call("c3", "list_notes", json!({})),
        Turn::text("You have two notes."),
    ]);
    let agent = Agent::builder(model.clone()).toolkit(Notes::default()).build().unwrap();
    agent.run("notes").await.unwrap();
    assert_eq!(results_sent(&model, 2), [("c2".into(), "2".into(), false)]);
    assert_eq!(results_sent(&model, 3), [("c3".into(), r#"["buy milk","call Ada"]"#.into(), false)]);
    let instructions = model.requests()[0].instructions.clone().unwrap_or_default();
    assert!(instructions.contains("Use the notes tools to remember things."), "{instructions}");
    let names: Vec<_> = model.requests()[0].tools.iter().map(|def| def.name.clone()).collect();
    assert_eq!(names, ["add_note", "list_notes"]);
    model.assert_complete();
}
