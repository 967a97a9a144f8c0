//! The demo's tools: a weather lookup, and a deletion that waits for the user's approval.

use agent_core::tool;

/// Get the current weather in a city.
///
/// # Arguments
///
/// * `city` - The city's name, such as "Paris".
#[tool]
pub fn get_weather(city: String) -> String {
    format!("It is sunny and 21C in {city}.")
}

/// Delete a city from the user's list of saved cities. The user must
/// approve each deletion, so the run pauses until they answer.
///
/// # Arguments
///
/// * `city` - The city to delete, such as "Paris".
#[tool(requires_confirmation)]
pub fn delete_city(city: String) -> String {
    format!("Deleted {city} from the saved cities.")
}
