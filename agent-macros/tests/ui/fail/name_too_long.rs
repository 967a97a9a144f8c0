use agent_core::tool;

/// Gets the weather.
#[tool]
fn get_the_current_weather_for_a_city_anywhere_in_the_world_right_now(city: String) -> String {
    city
}

fn main() {}
