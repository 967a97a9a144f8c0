use agent_core::tool;

struct Failure;

/// Gets the weather.
#[tool]
fn get_weather(city: String) -> Result<String, Failure> {
    if city.is_empty() { Err(Failure) } else { Ok(city) }
}

fn main() {}
