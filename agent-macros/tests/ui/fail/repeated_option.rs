use agent_core::tool;

/// Gets the weather.
#[tool(strict, strict)]
fn get_weather(city: String) -> String {
    city
}

fn main() {}
