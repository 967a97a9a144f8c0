use agent_core::tool;

/// Gets the weather.
#[tool(timeout = "30")]
fn get_weather(city: String) -> String {
    city
}

fn main() {}
