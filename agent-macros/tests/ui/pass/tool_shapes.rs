//! Every supported signature shape compiles and implements `Tool`.

use std::collections::HashMap;

use agent_core::{RunContext, Tool, ToolError, ToolOutput, tool};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Filter {
    /// Only these tags.
    tags: Vec<String>,
}

struct Deps;

/// No arguments, no return value.
#[tool]
fn ping() {}

/// Sync, `Result` with a `Display` error.
///
/// # Arguments
///
/// * `a` - First.
/// * `b` - Second.
#[tool]
pub fn divide(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 { Err("division by zero".into()) } else { Ok(a / b) }
}

/// Async with the context and every kind of argument.
#[tool(strict, cache, requires_confirmation = false, timeout = "2m")]
pub(crate) async fn search(
    ctx: &RunContext<Deps>,
    query: String,
    limit: Option<u32>,
    filter: Filter,
    weights: HashMap<String, f32>,
    mut r#type: Vec<u8>,
) -> Result<ToolOutput, ToolError> {
    let _ = (ctx.deps(), query, limit, filter, weights);
    r#type.clear();
    Ok(ToolOutput::text("done"))
}

/// A one-argument `Result` alias.
#[tool]
fn parse(text: String) -> std::io::Result<u32> {
    text.parse().map_err(std::io::Error::other)
}

/// `&RunContext` without a deps type is `RunContext<()>`.
#[tool(name = "whoami")]
fn who_am_i(ctx: &RunContext) -> String {
    ctx.run_id().to_owned()
}

fn assert_tool<D, T: Tool<D>>(_: T) {}

fn main() {
    assert_tool::<(), _>(Ping);
    assert_tool::<Deps, _>(Ping);
    assert_tool::<u8, _>(Divide);
    assert_tool::<Deps, _>(Search);
    assert_tool::<(), _>(Parse);
    assert_tool::<(), _>(WhoAmI);
    ping();
    let _ = divide(1.0, 2.0);
}
