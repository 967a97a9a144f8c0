use agent_core::toolkit;

struct Weather;

#[toolkit]
impl Weather {
    /// Gets the weather.
    #[tool]
    #[tool(strict)]
    fn get_weather(&self, city: String) -> String {
        city
    }
}

fn main() {}
