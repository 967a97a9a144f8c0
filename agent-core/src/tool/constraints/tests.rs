//! Tests of the constraint check over realistic schemars types.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde_json::json;

use super::check;
use crate::tool::schema::schema_for;

#[derive(JsonSchema)]
#[allow(dead_code)]
struct Person {
    /// Name.
    #[schemars(length(min = 1, max = 5))]
    name: String,
    age: u8,
    score: Option<i16>,
    weight: f64,
    #[schemars(range(min = 1, max = 10))]
    rating: u32,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct Team {
    #[schemars(length(max = 3))]
    people: Vec<Person>,
    lead: Option<Person>,
    counts: BTreeMap<String, u16>,
    kind: Kind,
    size: Size,
}

/// A documented enum: schemars writes `oneOf` with `const`s.
#[derive(JsonSchema)]
#[allow(dead_code)]
enum Kind {
    /// Small.
    Small,
    /// Large.
    Large,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum Size {
    Fixed(i8),
    Range { from: u64, to: u64 },
}

fn person() -> serde_json::Value {
    json!({"name": "Ana", "age": 30, "score": null, "weight": 61.5, "rating": 3})
}

fn team() -> serde_json::Value {
    json!({"people": [person(), person()], "lead": person(), "counts": {"a": 1}, "kind": "Small", "size": {"Fixed": -3}})
}

fn violation_of(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value = team();
    edit(&mut value);
    check(&schema_for::<Team>(), &value).expect_err("the edit breaks a constraint")
}

#[test]
fn a_valid_value_passes() {
    assert_eq!(check(&schema_for::<Team>(), &team()), Ok(()));
    assert_eq!(check(&schema_for::<Person>(), &person()), Ok(()));
}

#[test]
fn violations_name_their_path() {
    assert_eq!(
        violation_of(|v| v["people"][1]["age"] = json!(300)),
        "/people/1/age: 300 is greater than the maximum 255"
    );
    assert_eq!(violation_of(|v| v["people"][0]["age"] = json!(-1)), "/people/0/age: -1 is less than the minimum 0");
    assert_eq!(
        violation_of(|v| v["lead"]["rating"] = json!(11)),
        "/lead/rating: 11 is greater than the maximum 10",
        "a nested Option<struct> is checked through anyOf and $ref"
    );
    assert_eq!(
        violation_of(|v| v["people"][0]["name"] = json!("")),
        "/people/0/name: 0 characters are fewer than the minimum length 1"
    );
    assert_eq!(
        violation_of(|v| v["people"][0]["name"] = json!("Ángela")),
        "/people/0/name: 6 characters are more than the maximum length 5"
    );
    assert_eq!(
        violation_of(|v| v["people"] = json!([person(), person(), person(), person()])),
        "/people: 4 items are more than the maximum 3"
    );
    assert_eq!(
        violation_of(|v| v["counts"]["a"] = json!(70000)),
        "/counts/a: 70000 is greater than the maximum 65535",
        "map values are checked through additionalProperties"
    );
}

#[test]
fn integer_formats_bound_types_without_explicit_ranges() {
    // i16 has minimum/maximum, i32 only its format.
    assert_eq!(
        violation_of(|v| v["people"][0]["score"] = json!(40000)),
        "/people/0/score: 40000 is greater than the maximum 32767"
    );
    assert!(violation_of(|v| v["size"] = json!({"Fixed": 200})).contains("/size/Fixed: 200"));
    let schema = json!({"type": "integer", "format": "int32"});
    assert_eq!(
        check(&schema, &json!(3_000_000_000_u64)).unwrap_err(),
        "/: 3000000000 is out of the range of `int32` (-2147483648 to 2147483647)"
    );
    assert_eq!(check(&schema_for::<u64>(), &json!(u64::MAX)), Ok(()));
    assert_eq!(check(&schema_for::<u64>(), &json!(-1)).unwrap_err(), "/: -1 is less than the minimum 0");
}

#[test]
fn integers_and_numbers_differ() {
    assert_eq!(violation_of(|v| v["people"][0]["age"] = json!(2.5)), "/people/0/age: 2.5 is not of type integer");
    assert_eq!(check(&schema_for::<u8>(), &json!(7.0)), Ok(()), "a whole float is an integer");
    assert_eq!(
        violation_of(|v| v["people"][0]["weight"] = json!("heavy")),
        "/people/0/weight: \"heavy\" is not of type number"
    );
}

#[test]
fn enums_consts_and_tagged_variants() {
    assert_eq!(violation_of(|v| v["kind"] = json!("Medium")), "/kind: \"Medium\" is not the constant \"Small\"");
    assert_eq!(
        violation_of(|v| v["size"] = json!({"Range": {"from": 1, "to": -2}})),
        "/size/Range/to: -2 is less than the minimum 0"
    );
    assert!(violation_of(|v| v["size"] = json!({"Other": 1})).starts_with("/size: "));
    let plain = json!({"type": "string", "enum": ["a", "b"]});
    assert_eq!(check(&plain, &json!("c")).unwrap_err(), "/: \"c\" is not one of [\"a\",\"b\"]");
}

#[test]
fn required_and_unknown_properties() {
    assert_eq!(
        violation_of(|v| {
            v.as_object_mut().map(|o| o.remove("kind"));
        }),
        "/: the required property `kind` is missing"
    );
    let closed = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    assert_eq!(check(&closed, &json!({"a": "x", "b/c": 1})).unwrap_err(), "/: the property `b/c` is not allowed");
    let nested = json!({"type": "object", "additionalProperties": {"type": "integer", "maximum": 1}});
    assert_eq!(check(&nested, &json!({"b/c": 2})).unwrap_err(), "/b~1c: 2 is greater than the maximum 1");
}

#[test]
fn exclusive_bounds_and_multiples() {
    let schema = json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25});
    assert_eq!(check(&schema, &json!(0.5)), Ok(()));
    assert!(check(&schema, &json!(0)).unwrap_err().contains("exclusive minimum"));
    assert!(check(&schema, &json!(1)).unwrap_err().contains("exclusive maximum"));
    assert_eq!(check(&schema, &json!(0.3)).unwrap_err(), "/: 0.3 is not a multiple of 0.25");
    assert_eq!(check(&json!({"multipleOf": 3}), &json!(9)), Ok(()));
}

#[test]
fn self_referencing_schemas_are_bounded() {
    let looping = json!({"$ref": "#/$defs/A", "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}});
    assert!(check(&looping, &json!(1)).unwrap_err().contains("deeper than"));
    let tree = json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {
        "value": {"type": "integer", "maximum": 9},
        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}});
    let deep = json!({"value": 1, "children": [{"value": 2, "children": [{"value": 10, "children": []}]}]});
    assert_eq!(check(&tree, &deep).unwrap_err(), "/children/0/children/0/value: 10 is greater than the maximum 9");
    assert!(check(&json!({"$ref": "#/$defs/Missing"}), &json!(1)).unwrap_err().contains("unknown `$ref`"));
}
