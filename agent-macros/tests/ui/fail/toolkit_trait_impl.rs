use agent_core::toolkit;

trait Forecast {
    fn forecast(&self, city: String) -> String;
}

struct Weather;

#[toolkit]
impl Forecast for Weather {
    /// Gets the forecast.
    #[tool]
    fn forecast(&self, city: String) -> String {
        city
    }
}

fn main() {}
