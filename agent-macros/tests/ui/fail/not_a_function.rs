use agent_core::tool;

/// A struct.
#[tool]
struct Weather;

fn main() {}
