//! The full `#[tool]` flow from the crate docs, run as a test: write a tool
//! as a function, give it to an agent, and let a (test) model call it.
#![allow(clippy::unwrap_used)]

use agent_core::testing::{ScriptedModel, Turn};
use agent_core::{Agent, RunContext, tool};
use serde_json::json;

/// What the tools can reach: here, a fixed table of temperatures.
struct Weather {
    celsius: fn(&str) -> Option<f64>,
}

/// Temperature unit.
#[derive(Clone, Copy, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    #[default]
    Celsius,
    Fahrenheit,
}

/// Gets the current temperature in a city.
///
/// Call this whenever the user asks about the weather.
///
/// # Arguments
///
/// * `city` - City name, such as "Paris".
/// * `unit` - Temperature unit; Celsius when absent.
#[tool(timeout = "10s")]
async fn get_weather(ctx: &RunContext<Weather>, city: String, unit: Option<Unit>) -> Result<String, String> {
    let celsius = (ctx.deps().celsius)(&city).ok_or_else(|| format!("unknown city `{city}`"))?;
    Ok(match unit.unwrap_or_default() {
        Unit::Celsius => format!("{celsius:.0}°C in {city}"),
        Unit::Fahrenheit => format!("{:.0}°F in {city}", celsius * 9.0 / 5.0 + 32.0),
    })
}

#[tokio::test]
async fn full_flow() {
    let deps = Weather { celsius: |city| (city == "Paris").then_some(21.0) };
    let model = ScriptedModel::new([
        Turn::tool_call("c1", "get_weather", json!({"city": "Paris", "unit": "fahrenheit"})),
        Turn::text("It is 70°F in Paris."),
    ]);
    let agent = Agent::with_deps(model.clone(), deps).tool(GetWeather).build().unwrap();

    // What the model sees.
    let def = &agent.tool_defs()[0];
    assert_eq!(def.name, "get_weather");
    assert_eq!(def.description, "Gets the current temperature in a city.");
    assert_eq!(def.input_schema["required"], json!(["city"]));
    assert_eq!(def.input_schema["properties"]["city"]["description"], "City name, such as \"Paris\".");

    let output = agent.run("How warm is Paris, in Fahrenheit?").await.unwrap();
    assert_eq!(output.content, "It is 70°F in Paris.");
    model.assert_complete();

    // The function itself is still an ordinary function.
    let ctx = RunContext::new(Weather { celsius: |_| Some(0.0) });
    assert_eq!(get_weather(&ctx, "Oslo".into(), None).await.unwrap(), "0°C in Oslo");
}
