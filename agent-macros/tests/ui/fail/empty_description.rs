use agent_core::tool;

/// Gets the weather.
#[tool(description = "  ")]
fn get_weather(city: String) -> String {
    city
}

fn main() {}
