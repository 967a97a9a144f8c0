use agent_core::tool;

/// Gets the weather.
///
/// # Arguments
///
/// * - City name.
#[tool]
fn get_weather(city: String) -> String {
    city
}

fn main() {}
