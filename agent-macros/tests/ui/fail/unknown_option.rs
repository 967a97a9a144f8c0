use agent_core::tool;

/// Gets the weather.
#[tool(retries = 3)]
fn get_weather(city: String) -> String {
    city
}

fn main() {}
