use agent_core::tool;

struct City {
    name: String,
}

/// Gets the weather.
#[tool]
fn get_weather(city: City) -> String {
    city.name
}

fn main() {}
