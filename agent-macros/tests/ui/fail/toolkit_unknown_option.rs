use agent_core::toolkit;

struct Weather;

#[toolkit(prompt = "Be brief.")]
impl Weather {
    /// Gets the weather.
    #[tool]
    fn get_weather(&self, city: String) -> String {
        city
    }
}

fn main() {}
