use agent_core::tool;

struct Report;

/// Gets the weather.
#[tool]
fn get_weather(city: String) -> Report {
    let _ = city;
    Report
}

fn main() {}
