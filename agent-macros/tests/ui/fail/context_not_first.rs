use agent_core::{RunContext, tool};

/// Gets the weather.
#[tool]
fn get_weather(city: String, ctx: &RunContext) -> String {
    let _ = ctx;
    city
}

fn main() {}
