use agent_core::tool;

/// Gets the weather.
///
/// # Arguments
///
/// * `city` - City name.
/// * `city` - The city again.
#[tool]
fn get_weather(city: String) -> String {
    city
}

fn main() {}
