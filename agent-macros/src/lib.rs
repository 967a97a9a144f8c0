//! `#[tool]` and `#[toolkit]`: custom tools from plain functions.
//!
//! Use them through `agent_core::tool` and `agent_core::toolkit`; the generated
//! code names only `::agent_core::__private` paths. Each macro runs
//! parse → validate → expand: every problem is a spanned error, all of them are
//! reported in one build, and the user's item is still emitted (with a stub
//! tool) so one mistake does not cascade into others.

mod diagnostics;
mod docs;
mod expand;
mod options;
mod parse;
mod tool;
mod toolkit;
mod validate;

use proc_macro::TokenStream;

/// Turns a function into a tool the model can call.
///
/// The function stays as written and callable. Next to it, `#[tool]`
/// generates a unit struct named in PascalCase (`get_weather` → `GetWeather`)
/// implementing `agent_core::Tool`, so `Agent::builder(model).tool(GetWeather)`
/// works.
///
/// - **Name**: the function's name, or `name = "..."`; it must match the
///   Claude API's `^[a-zA-Z0-9_-]{1,64}$`.
/// - **Description**: the first paragraph of the doc comment, or
///   `description = "..."`.
/// - **Arguments**: the other parameters, read from the model's JSON input by
///   name. Their types need `serde::Deserialize` and `schemars::JsonSchema`
///   (primitives, `String`, `Vec<T>`, maps, and your own structs and enums
///   deriving both); the input schema is built from them once per tool. An
///   `Option<T>` parameter is optional. An `# Arguments` list in the doc
///   comment (``* `city` - City name``) gives each property its description.
/// - **Context**: a first parameter `&RunContext<D>` is passed the run's
///   context and is not in the schema. The tool then implements `Tool<D>`;
///   without it, `Tool<D>` for every `D`.
/// - **Result**: any `T: Serialize` (strings are sent as text, other values as
///   JSON), `Result<T, E>` with `E: Display` (an error goes back to the model
///   as an `is_error` result it can retry), or `ToolOutput` /
///   `Result<_, ToolError>` for full control. `Result`, `ToolOutput` and
///   `ToolError` are recognized by name.
/// - **Bad arguments** from the model go back to it as a retryable error
///   carrying the parser's message.
///
/// Options: `name = "..."`, `description = "..."`, `strict` (Claude strict
/// tool use; `additionalProperties: false` is set on every object),
/// `requires_confirmation`, `external_execution`, `stop_after_call`, `cache`
/// (identical calls in a run reuse the first result) and `timeout = "30s"`
/// (`ms`, `s` or `m`). Flags also accept `= true` / `= false`.
///
/// # Example
///
/// ```
/// use agent_core::testing::{ScriptedModel, Turn};
/// use agent_core::{Agent, RunContext, tool};
///
/// /// What the tools can reach: here, a fixed table of temperatures.
/// struct Deps {
///     celsius: fn(&str) -> Option<f64>,
/// }
///
/// /// Temperature unit.
/// #[derive(Default, serde::Deserialize, schemars::JsonSchema)]
/// #[serde(rename_all = "lowercase")]
/// enum Unit {
///     #[default]
///     Celsius,
///     Fahrenheit,
/// }
///
/// /// Gets the current weather for a city.
/// ///
/// /// # Arguments
/// ///
/// /// * `city` - City name, such as "Paris".
/// /// * `unit` - Temperature unit; Celsius when absent.
/// #[tool(timeout = "10s")]
/// async fn get_weather(ctx: &RunContext<Deps>, city: String, unit: Option<Unit>) -> Result<String, String> {
///     let celsius = (ctx.deps().celsius)(&city).ok_or_else(|| format!("unknown city `{city}`"))?;
///     Ok(match unit.unwrap_or_default() {
///         Unit::Celsius => format!("{celsius:.0}°C in {city}"),
///         Unit::Fahrenheit => format!("{:.0}°F in {city}", celsius * 9.0 / 5.0 + 32.0),
///     })
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let deps = Deps { celsius: |city| (city == "Paris").then_some(21.0) };
/// let model = ScriptedModel::new([
///     Turn::tool_call("c1", "get_weather", serde_json::json!({"city": "Paris"})),
///     Turn::text("It is 21°C in Paris."),
/// ]);
/// // Tools that take `&RunContext<Deps>` need an agent with deps: `Agent::with_deps`.
/// let agent = Agent::with_deps(model.clone(), deps).tool(GetWeather).build()?;
/// assert_eq!(agent.run("Weather in Paris?").await?.content, "It is 21°C in Paris.");
/// model.assert_complete();
/// # Ok::<_, agent_core::Error>(())
/// # }).unwrap();
/// ```
///
/// More of the flow (the schema the model sees, the function called
/// directly) runs as a test in `agent-macros/tests/tool_macro_doc.rs`.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(attr.into(), item.into()).into()
}

/// Turns the `#[tool]` methods of an `impl` block into a toolkit whose tools
/// share the value.
///
/// Each method marked `#[tool]` (taking `&self`, with the same rules and
/// options as a standalone `#[tool]`) becomes a tool holding an `Arc` of the
/// value; the type gets `impl IntoToolkit<D>`, so
/// `Agent::builder(model).toolkit(Weather::new(..))` adds them all. Other
/// methods are left alone. The toolkit's name is the type's name in
/// snake_case (or `name = "..."`); `instructions = "..."` adds text to the
/// agent's system prompt. Tools taking `&RunContext<D>` must agree on `D`.
///
/// # Example
///
/// ```
/// use std::sync::Mutex;
///
/// use agent_core::testing::{ScriptedModel, Turn};
/// use agent_core::{Agent, toolkit};
///
/// #[derive(Default)]
/// struct Notes {
///     lines: Mutex<Vec<String>>,
/// }
///
/// #[toolkit(instructions = "Keep notes short.")]
/// impl Notes {
///     /// Adds a note and returns how many there are.
///     ///
///     /// # Arguments
///     ///
///     /// * `text` - The note.
///     #[tool]
///     fn add_note(&self, text: String) -> usize {
///         let mut lines = self.lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
///         lines.push(text);
///         lines.len()
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let model = ScriptedModel::new([
///     Turn::tool_call("c1", "add_note", serde_json::json!({"text": "buy milk"})),
///     Turn::text("Noted."),
/// ]);
/// let agent = Agent::builder(model.clone()).toolkit(Notes::default()).build()?;
/// assert_eq!(agent.run("Remember to buy milk").await?.content, "Noted.");
/// model.assert_complete();
/// # Ok::<_, agent_core::Error>(())
/// # }).unwrap();
/// ```
#[proc_macro_attribute]
pub fn toolkit(attr: TokenStream, item: TokenStream) -> TokenStream {
    toolkit::expand(attr.into(), item.into()).into()
}
