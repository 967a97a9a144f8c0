use agent_core::tool;

struct Weather;

#[tool]
impl Weather {}

fn main() {}
