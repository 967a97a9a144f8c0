//! JSON bodies (memories, sessions, search; bodies on `DELETE` too), read with FastAPI-shaped 422s.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON body parsed as `T`. Malformed JSON is a 422 `json_invalid`; JSON of
/// the wrong shape a 422 naming the field.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|rejection| {
            ApiError::new(rejection.status(), format!("the request body could not be read: {}", rejection.body_text()))
        })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body; an empty body reads as `{}`.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
    let value: Value = serde_json::from_slice(text).map_err(|err| {
        ApiError::validation(&["body"], "json_invalid", format!("JSON decode error: {err}"), Value::Null)
    })?;
    serde_json::from_value(value.clone()).map_err(|err| shape_error(&err.to_string(), value))
}

fn shape_error(message: &str, input: Value) -> ApiError {
    if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
        return ApiError::missing(&["body", field]);
    }
    ApiError::validation(&["body"], "value_error", message.to_owned(), input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Rename {
        session_name: String,
    }

    #[test]
    fn malformed_and_misshapen_bodies_are_422s_naming_the_problem() {
        assert_eq!(parse::<Rename>(b"{bad").map_err(|e| e.status().as_u16()).err(), Some(422));
        let missing = parse::<Rename>(b"{}").err().map(|e| e.status().as_u16());
        assert_eq!(missing, Some(422));
        assert!(parse::<Rename>(br#"{"session_name": 3}"#).is_err());
        assert!(parse::<Rename>(br#"{"session_name": "x"}"#).is_ok());
    }
}
