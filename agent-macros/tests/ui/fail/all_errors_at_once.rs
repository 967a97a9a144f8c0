//! Several mistakes in one tool: each is reported, at its own place, and
//! code using the tool struct adds no errors of its own.
use agent_core::{Agent, testing::TestModel, tool};

/// Gets the weather.
///
/// # Arguments
///
/// * `town` - Not a parameter.
#[tool(name = "get weather", colour = "blue")]
fn get_weather((city, _): (String, u8), days: &u32) -> String {
    let _ = days;
    city
}

fn main() {
    let _ = Agent::builder(TestModel::new()).tool(GetWeather);
}
