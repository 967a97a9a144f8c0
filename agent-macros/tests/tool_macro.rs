//! `#[tool]` behaviour through the generated `Tool` impls, called directly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use agent_core::{RunContext, Tool, ToolError, ToolOutput, ToolResultContent, tool};
use expect_test::{Expect, expect};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Temperature unit.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// Gets the current weather for a city.
///
/// Call this when the user asks about the weather.
///
/// # Arguments
///
/// * `city` - City name, such as "Paris".
/// * `unit` - Temperature unit; Celsius when absent.
#[tool]
fn get_weather(city: String, unit: Option<Unit>) -> String {
    format!("Sunny in {city} ({unit:?})")
}

/// A point on a map.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct Point {
    /// Latitude in degrees.
    lat: f64,
    /// Longitude in degrees.
    lon: f64,
}

#[derive(Debug, Serialize)]
struct Route {
    stops: usize,
    tags: usize,
}

/// Plans a route through the given points.
///
/// # Arguments
///
/// * `stops` - The points to visit, in order.
/// * `tags` - Labels per stop name.
/// * `avoid_tolls` - Whether to avoid toll roads.
#[tool]
async fn plan_route(stops: Vec<Point>, tags: BTreeMap<String, Vec<String>>, avoid_tolls: bool) -> Route {
    let _ = avoid_tolls;
    Route {
        stops: stops.iter().filter(|point| point.lat.is_finite() && point.lon.is_finite()).count(),
        tags: tags.len(),
    }
}

/// Names the place at a point.
///
/// # Arguments
///
/// * `point` - Where.
/// * `language` - Language of the answer.
#[tool(strict)]
fn locate(point: Point, language: Option<String>) -> String {
    format!("{} {} {language:?}", point.lat, point.lon)
}

/// Returns the current time.
#[tool]
fn now() -> &'static str {
    "noon"
}

struct Deps {
    greeting: String,
}

/// Greets someone.
///
/// # Arguments
///
/// * `ctx` - The run context (not sent to the model).
/// * `name` - Who to greet.
#[tool(strict, requires_confirmation, cache, timeout = "1500ms", stop_after_call)]
async fn greet(ctx: &RunContext<Deps>, name: String) -> String {
    format!("{}, {name}!", ctx.deps().greeting)
}

/// Ignored: the description option wins.
#[tool(name = "search-docs", description = "Searches the documentation.", external_execution)]
fn search(query: String) -> Vec<String> {
    vec![query]
}

#[derive(Debug)]
struct Overheated(u32);

impl std::fmt::Display for Overheated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the sensor is overheated ({} °C); try another city", self.0)
    }
}

/// Reads a sensor.
///
/// # Arguments
///
/// * `id` - Sensor id.
#[tool]
fn read_sensor(id: u32) -> Result<f64, Overheated> {
    if id == 0 { Err(Overheated(90)) } else { Ok(f64::from(id) / 2.0) }
}

/// Deletes everything.
#[tool]
fn wipe(confirm: bool) -> Result<ToolOutput, ToolError> {
    if confirm { Ok(ToolOutput::text("wiped")) } else { Err(ToolError::fatal("refusing to wipe")) }
}

/// Says hello with a plain `ToolOutput`.
#[tool]
fn hello() -> ToolOutput {
    ToolOutput::text("hello")
}

/// Never fails, but says so in its type.
#[tool]
fn checked(n: i64) -> Result<i64, ToolError> {
    Ok(n * 2)
}

fn schema_of(tool: &impl Tool<()>) -> String {
    serde_json::to_string_pretty(&tool.def().input_schema).unwrap()
}

fn check(actual: String, expect: Expect) {
    expect.assert_eq(&actual);
}

async fn call<T: Tool<()>>(tool: &T, input: Value) -> Result<ToolOutput, ToolError> {
    tool.call(&RunContext::new(()), input).await
}

#[test]
fn schema_of_primitives_options_and_a_documented_enum() {
    check(
        schema_of(&GetWeather),
        expect![[r##"
            {
              "$defs": {
                "Unit": {
                  "description": "Temperature unit.",
                  "enum": [
                    "celsius",
                    "fahrenheit"
                  ],
                  "type": "string"
                }
              },
              "additionalProperties": false,
              "properties": {
                "city": {
                  "description": "City name, such as \"Paris\".",
                  "type": "string"
                },
                "unit": {
                  "anyOf": [
                    {
                      "$ref": "#/$defs/Unit"
                    },
                    {
                      "type": "null"
                    }
                  ],
                  "description": "Temperature unit; Celsius when absent."
                }
              },
              "required": [
                "city"
              ],
              "type": "object"
            }"##]],
    );
}

#[test]
fn schema_of_nested_structs_vecs_and_maps() {
    check(
        schema_of(&PlanRoute),
        expect![[r##"
        {
          "$defs": {
            "Point": {
              "description": "A point on a map.",
              "properties": {
                "lat": {
                  "description": "Latitude in degrees.",
                  "format": "double",
                  "type": "number"
                },
                "lon": {
                  "description": "Longitude in degrees.",
                  "format": "double",
                  "type": "number"
                }
              },
              "required": [
                "lat",
                "lon"
              ],
              "type": "object"
            }
          },
          "additionalProperties": false,
          "properties": {
            "avoid_tolls": {
              "description": "Whether to avoid toll roads.",
              "type": "boolean"
            },
            "stops": {
              "description": "The points to visit, in order.",
              "items": {
                "$ref": "#/$defs/Point"
              },
              "type": "array"
            },
            "tags": {
              "additionalProperties": {
                "items": {
                  "type": "string"
                },
                "type": "array"
              },
              "description": "Labels per stop name.",
              "type": "object"
            }
          },
          "required": [
            "stops",
            "tags",
            "avoid_tolls"
          ],
          "type": "object"
        }"##]],
    );
}

#[test]
fn schema_of_a_tool_without_arguments() {
    check(
        schema_of(&Now),
        expect![[r#"
        {
          "additionalProperties": false,
          "properties": {},
          "required": [],
          "type": "object"
        }"#]],
    );
}

#[test]
fn the_definition_carries_the_options_and_hides_the_context() {
    let def = Tool::<Deps>::def(&Greet);
    check(
        serde_json::to_string_pretty(&*def).unwrap(),
        expect![[r#"
        {
          "name": "greet",
          "description": "Greets someone.",
          "input_schema": {
            "additionalProperties": false,
            "properties": {
              "name": {
                "description": "Who to greet.",
                "type": "string"
              }
            },
            "required": [
              "name"
            ],
            "type": "object"
          },
          "strict": true,
          "requires_confirmation": true,
          "timeout": 1500,
          "cache_results": true,
          "stop_after_call": true
        }"#]],
    );
}

#[test]
fn strict_tools_forbid_additional_properties_on_every_object() {
    check(
        schema_of(&Locate),
        expect![[r##"
        {
          "$defs": {
            "Point": {
              "additionalProperties": false,
              "description": "A point on a map.",
              "properties": {
                "lat": {
                  "description": "Latitude in degrees.",
                  "format": "double",
                  "type": "number"
                },
                "lon": {
                  "description": "Longitude in degrees.",
                  "format": "double",
                  "type": "number"
                }
              },
              "required": [
                "lat",
                "lon"
              ],
              "type": "object"
            }
          },
          "additionalProperties": false,
          "properties": {
            "language": {
              "description": "Language of the answer.",
              "type": [
                "string",
                "null"
              ]
            },
            "point": {
              "$ref": "#/$defs/Point",
              "description": "Where."
            }
          },
          "required": [
            "point"
          ],
          "type": "object"
        }"##]],
    );
}

#[test]
fn name_and_description_options_override_the_function() {
    let def = Tool::<()>::def(&Search);
    assert_eq!(def.name, "search-docs");
    assert_eq!(def.description, "Searches the documentation.");
    assert!(def.external_execution);
    assert!(!def.strict && !def.requires_confirmation && !def.cache_results && def.timeout.is_none());
}

#[test]
fn options_map_onto_the_definition() {
    let def = Tool::<Deps>::def(&Greet);
    assert!(def.strict && def.requires_confirmation && def.cache_results && def.stop_after_call);
    assert_eq!(def.timeout, Some(Duration::from_millis(1500)));
    assert_eq!(def.description, "Greets someone.");
}

#[test]
fn the_definition_is_computed_once_per_tool_type() {
    let first = Tool::<()>::def(&GetWeather);
    assert!(Arc::ptr_eq(&first, &Tool::<()>::def(&GetWeather)));
    // Shared across deps types too: the static lives in the one generic impl.
    assert!(Arc::ptr_eq(&first, &Tool::<Deps>::def(&GetWeather)));
    assert_eq!(first.description, "Gets the current weather for a city.");
}

#[test]
fn the_function_stays_callable() {
    assert_eq!(get_weather("Oslo".into(), Some(Unit::Fahrenheit)), "Sunny in Oslo (Some(Fahrenheit))");
    assert_eq!(read_sensor(4).unwrap(), 2.0);
}

#[tokio::test]
async fn arguments_are_deserialized_and_passed() {
    let output = call(&GetWeather, json!({"city": "Paris", "unit": "celsius"})).await.unwrap();
    assert_eq!(output, ToolOutput::text("Sunny in Paris (Some(Celsius))"));
    // An optional argument may be missing or null.
    let output = call(&GetWeather, json!({"city": "Paris"})).await.unwrap();
    assert_eq!(output, ToolOutput::text("Sunny in Paris (None)"));
    let output = call(&GetWeather, json!({"city": "Paris", "unit": null})).await.unwrap();
    assert_eq!(output, ToolOutput::text("Sunny in Paris (None)"));
}

#[tokio::test]
async fn async_tools_with_nested_arguments_return_json() {
    let input = json!({
        "stops": [{"lat": 1.0, "lon": 2.0}, {"lat": 3.0, "lon": 4.0}],
        "tags": {"home": ["start"]},
        "avoid_tolls": true,
    });
    let output = call(&PlanRoute, input).await.unwrap();
    assert_eq!(output.content, ToolResultContent::Json(json!({"stops": 2, "tags": 1})));
}

#[tokio::test]
async fn tools_without_arguments_accept_an_empty_object_or_null() {
    assert_eq!(call(&Now, json!({})).await.unwrap(), ToolOutput::text("noon"));
    assert_eq!(call(&Now, Value::Null).await.unwrap(), ToolOutput::text("noon"));
}

#[tokio::test]
async fn the_context_is_injected() {
    let ctx = RunContext::new(Deps { greeting: "Bonjour".into() });
    let output = Greet.call(&ctx, json!({"name": "Ada"})).await.unwrap();
    assert_eq!(output, ToolOutput::text("Bonjour, Ada!"));
}

#[tokio::test]
async fn bad_arguments_are_retried_with_the_parser_message() {
    let cases = [
        (json!({}), "invalid arguments: missing argument `city`. Fix the arguments and call the tool again."),
        (
            json!({"city": 5}),
            "invalid arguments: `city`: invalid type: integer `5`, expected a string. \
             Fix the arguments and call the tool again.",
        ),
        (
            json!({"city": "Paris", "unit": "kelvin"}),
            "invalid arguments: `unit`: unknown variant `kelvin`, expected `celsius` or `fahrenheit`. \
             Fix the arguments and call the tool again.",
        ),
        (
            json!({"city": "Paris", "country": "FR"}),
            "invalid arguments: unknown argument `country`; the arguments are `city`, `unit`. \
             Fix the arguments and call the tool again.",
        ),
        (
            json!(["Paris"]),
            "invalid arguments: expected an object of named arguments, got `[\"Paris\"]`. \
             Fix the arguments and call the tool again.",
        ),
    ];
    for (input, message) in cases {
        assert_eq!(call(&GetWeather, input).await, Err(ToolError::Retry(message.into())));
    }
    let error = call(&Now, json!({"verbose": true})).await.unwrap_err();
    assert_eq!(
        error,
        ToolError::retry(
            "invalid arguments: unknown argument `verbose`: this tool takes no arguments. \
             Fix the arguments and call the tool again."
        )
    );
}

#[tokio::test]
async fn an_error_with_display_goes_back_to_the_model_as_a_retry() {
    assert_eq!(call(&ReadSensor, json!({"id": 3})).await.unwrap().content, ToolResultContent::Json(json!(1.5)));
    assert_eq!(
        call(&ReadSensor, json!({"id": 0})).await,
        Err(ToolError::Retry("the sensor is overheated (90 °C); try another city".into()))
    );
}

#[tokio::test]
async fn tool_output_and_tool_error_pass_through_unchanged() {
    assert_eq!(call(&Wipe, json!({"confirm": true})).await, Ok(ToolOutput::text("wiped")));
    assert_eq!(call(&Wipe, json!({"confirm": false})).await, Err(ToolError::Fatal("refusing to wipe".into())));
    assert_eq!(call(&Hello, json!({})).await, Ok(ToolOutput::text("hello")));
    assert_eq!(call(&Checked, json!({"n": 21})).await.unwrap().content, ToolResultContent::Json(json!(42)));
}
