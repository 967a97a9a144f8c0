//! Snapshots of the structured-output schemas realistic Rust types become on the wire (checked by the fake against the API's rules).

use agent_core::support::schema_for;
use expect_test::expect;

use crate::schemas::{Choices, Numbers, Profile, check_output};

#[tokio::test]
async fn integers_and_floats_lose_their_ranges_and_formats_to_the_description() {
    check_output(
        schema_for::<Numbers>(),
        expect![[r#"
            {
              "additionalProperties": false,
              "description": "Every integer and float width.",
              "properties": {
                "big": {
                  "description": "{format: \"uint64\", minimum: 0}",
                  "type": "integer"
                },
                "count": {
                  "description": "{format: \"uint32\", minimum: 0}",
                  "type": "integer"
                },
                "delta": {
                  "description": "{format: \"int8\", maximum: 127, minimum: -128}",
                  "type": "integer"
                },
                "index": {
                  "description": "{format: \"uint\", minimum: 0}",
                  "type": "integer"
                },
                "level": {
                  "description": "{format: \"int32\"}",
                  "type": "integer"
                },
                "medium": {
                  "description": "{format: \"uint16\", maximum: 65535, minimum: 0}",
                  "type": "integer"
                },
                "offset": {
                  "description": "{format: \"int16\", maximum: 32767, minimum: -32768}",
                  "type": "integer"
                },
                "ratio": {
                  "description": "{format: \"float\"}",
                  "type": "number"
                },
                "score": {
                  "description": "{format: \"double\"}",
                  "type": "number"
                },
                "small": {
                  "description": "{format: \"uint8\", maximum: 255, minimum: 0}",
                  "type": "integer"
                },
                "stamp": {
                  "description": "{format: \"int64\"}",
                  "type": "integer"
                }
              },
              "required": [
                "small",
                "medium",
                "count",
                "big",
                "index",
                "delta",
                "offset",
                "level",
                "stamp",
                "ratio",
                "score"
              ],
              "type": "object"
            }"#]],
    )
    .await;
}

#[tokio::test]
async fn options_nested_structs_vecs_and_string_constraints() {
    check_output(
        schema_for::<Profile>(),
        expect![[r##"
            {
              "$defs": {
                "Address": {
                  "additionalProperties": false,
                  "description": "A postal address.",
                  "properties": {
                    "city": {
                      "type": "string"
                    },
                    "postcode": {
                      "anyOf": [
                        {
                          "type": "string"
                        },
                        {
                          "type": "null"
                        }
                      ]
                    },
                    "street": {
                      "type": "string"
                    }
                  },
                  "required": [
                    "street",
                    "city"
                  ],
                  "type": "object"
                }
              },
              "additionalProperties": false,
              "description": "A person, as a memory-extraction answer might describe one.",
              "properties": {
                "age": {
                  "anyOf": [
                    {
                      "description": "{format: \"uint8\", maximum: 255, minimum: 0}",
                      "type": "integer"
                    },
                    {
                      "type": "null"
                    }
                  ]
                },
                "email": {
                  "format": "email",
                  "type": "string"
                },
                "home": {
                  "$ref": "#/$defs/Address"
                },
                "name": {
                  "description": "Full name.\n\n{maxLength: 80, minLength: 1}",
                  "type": "string"
                },
                "nickname": {
                  "anyOf": [
                    {
                      "type": "string"
                    },
                    {
                      "type": "null"
                    }
                  ],
                  "description": "A nickname, when known."
                },
                "rating": {
                  "description": "{format: \"uint8\", maximum: 5, minimum: 1}",
                  "type": "integer"
                },
                "scores": {
                  "description": "{minItems: 2}",
                  "items": {
                    "description": "{format: \"uint32\", minimum: 0}",
                    "type": "integer"
                  },
                  "type": "array"
                },
                "tags": {
                  "items": {
                    "type": "string"
                  },
                  "type": "array"
                }
              },
              "required": [
                "name",
                "email",
                "home",
                "tags",
                "scores",
                "rating"
              ],
              "type": "object"
            }"##]],
    )
    .await;
}

#[tokio::test]
async fn enums_with_and_without_documented_variants_tagged_and_untagged() {
    check_output(
        schema_for::<Choices>(),
        expect![[r##"
            {
              "$defs": {
                "Documented": {
                  "anyOf": [
                    {
                      "const": "add",
                      "description": "Add a memory.",
                      "type": "string"
                    },
                    {
                      "const": "delete",
                      "description": "Forget a memory.",
                      "type": "string"
                    }
                  ]
                },
                "Event": {
                  "anyOf": [
                    {
                      "additionalProperties": false,
                      "properties": {
                        "kind": {
                          "const": "click",
                          "type": "string"
                        },
                        "x": {
                          "description": "{format: \"int32\"}",
                          "type": "integer"
                        },
                        "y": {
                          "description": "{format: \"int32\"}",
                          "type": "integer"
                        }
                      },
                      "required": [
                        "kind",
                        "x",
                        "y"
                      ],
                      "type": "object"
                    },
                    {
                      "additionalProperties": false,
                      "properties": {
                        "code": {
                          "description": "{format: \"uint16\", maximum: 65535, minimum: 0}",
                          "type": "integer"
                        },
                        "kind": {
                          "const": "key",
                          "type": "string"
                        }
                      },
                      "required": [
                        "kind",
                        "code"
                      ],
                      "type": "object"
                    }
                  ]
                },
                "Plain": {
                  "enum": [
                    "low",
                    "high"
                  ],
                  "type": "string"
                },
                "Shape": {
                  "anyOf": [
                    {
                      "enum": [
                        "Empty"
                      ],
                      "type": "string"
                    },
                    {
                      "additionalProperties": false,
                      "properties": {
                        "Circle": {
                          "additionalProperties": false,
                          "properties": {
                            "radius": {
                              "description": "{format: \"double\"}",
                              "type": "number"
                            }
                          },
                          "required": [
                            "radius"
                          ],
                          "type": "object"
                        }
                      },
                      "required": [
                        "Circle"
                      ],
                      "type": "object"
                    },
                    {
                      "additionalProperties": false,
                      "properties": {
                        "Square": {
                          "description": "{format: \"uint32\", minimum: 0}",
                          "type": "integer"
                        }
                      },
                      "required": [
                        "Square"
                      ],
                      "type": "object"
                    }
                  ]
                }
              },
              "additionalProperties": false,
              "properties": {
                "documented": {
                  "$ref": "#/$defs/Documented"
                },
                "event": {
                  "anyOf": [
                    {
                      "$ref": "#/$defs/Event"
                    },
                    {
                      "type": "null"
                    }
                  ]
                },
                "plain": {
                  "$ref": "#/$defs/Plain"
                },
                "shapes": {
                  "items": {
                    "$ref": "#/$defs/Shape"
                  },
                  "type": "array"
                }
              },
              "required": [
                "plain",
                "documented",
                "shapes"
              ],
              "type": "object"
            }"##]],
    )
    .await;
}
