use agent_core::{RunContext, tool};

/// Gets the weather.
#[tool]
fn get_weather(ctx: RunContext, city: String) -> String {
    let _ = ctx;
    city
}

fn main() {}
