use agent_core::toolkit;

struct Weather;

#[toolkit]
impl Weather {
    /// Gets the weather.
    #[tool]
    fn get_weather(city: String) -> String {
        city
    }
}

fn main() {}
