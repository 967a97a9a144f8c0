use agent_core::toolkit;

struct Weather {
    calls: u32,
}

#[toolkit]
impl Weather {
    /// Gets the weather.
    #[tool]
    fn get_weather(&mut self, city: String) -> String {
        self.calls += 1;
        city
    }
}

fn main() {}
