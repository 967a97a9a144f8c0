use agent_core::tool;

/// Gets the weather.
#[tool]
fn get_weather(city: impl Into<String>) -> String {
    city.into()
}

fn main() {}
