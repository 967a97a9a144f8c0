//! Form bodies: the URL-encoded forms the client sends and the multipart forms UIs send, read into named fields with typed, AgentOS-shaped errors.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// A file part of a multipart form.
#[derive(Debug)]
pub(crate) struct Upload {
    /// The part's name (`files`, `file`).
    pub(crate) field: String,
    /// The file name the client gave.
    pub(crate) filename: Option<String>,
    /// The part's content type.
    pub(crate) content_type: Option<String>,
    /// The bytes.
    pub(crate) bytes: Vec<u8>,
}

/// The fields of a form body, in order; a repeated name keeps every value.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pairs: Vec<(String, String)>,
    pub(crate) uploads: Vec<Upload>,
    /// Where the fields came from, for validation errors: `body` or `query`.
    loc: &'static str,
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let multipart = Multipart::from_request(request, state).await.map_err(|rejection| {
                ApiError::new(rejection.status(), format!("invalid multipart body: {}", rejection.body_text()))
            })?;
            return read_multipart(multipart).await;
        }
        if content_type.starts_with("application/x-www-form-urlencoded") || content_type.is_empty() {
            let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|rejection| {
                ApiError::new(
                    rejection.status(),
                    format!("the request body could not be read: {}", rejection.body_text()),
                )
            })?;
            let pairs = form_urlencoded_pairs(&bytes)?;
            return Ok(Self { pairs, uploads: Vec::new(), loc: "body" });
        }
        Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "expected a form body (application/x-www-form-urlencoded or multipart/form-data), got `{content_type}`"
            ),
        ))
    }
}

fn form_urlencoded_pairs(bytes: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes(bytes).map_err(|err| ApiError::bad_request(format!("invalid form body: {err}")))
}

async fn read_multipart(mut multipart: Multipart) -> Result<Fields, ApiError> {
    let mut fields = Fields { loc: "body", ..Fields::default() };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(fields),
            Err(err) => {
                return Err(ApiError::new(err.status(), format!("invalid multipart body: {}", err.body_text())));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|err| ApiError::new(err.status(), format!("invalid multipart body: {}", err.body_text())))?;
        if filename.is_some() {
            fields.uploads.push(Upload { field: name, filename, content_type, bytes: bytes.to_vec() });
        } else {
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                ApiError::validation(&["body", &name], "string_unicode", "Input should be a valid string", Value::Null)
            })?;
            fields.pairs.push((name, text));
        }
    }
}

impl Fields {
    /// Fields from name-value pairs.
    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let pairs = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self { pairs, uploads: Vec::new(), loc: "body" }
    }

    /// The parameters of a query string (repeated keys keep every value).
    pub(crate) fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs = form_urlencoded_pairs(query.unwrap_or_default().as_bytes())?;
        Ok(Self { pairs, uploads: Vec::new(), loc: "query" })
    }

    /// Every value of `name`, in order (`status=A&status=B`).
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str()).collect()
    }

    /// An integer field at least `min`; `default` when absent.
    pub(crate) fn int(&self, name: &str, min: i64, default: i64) -> Result<i64, ApiError> {
        let Some(text) = self.text(name) else { return Ok(default) };
        let value: i64 = text.trim().parse().map_err(|_| {
            ApiError::validation(
                &[self.loc, name],
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
                Value::String(text.to_owned()),
            )
        })?;
        if value < min {
            return Err(ApiError::validation(
                &[self.loc, name],
                "greater_than_equal",
                format!("Input should be greater than or equal to {min}"),
                Value::String(text.to_owned()),
            ));
        }
        Ok(value)
    }

    /// A field that must be one of `allowed`; `None` when absent.
    pub(crate) fn choice(&self, name: &str, allowed: &[&str]) -> Result<Option<&str>, ApiError> {
        let Some(text) = self.text(name) else { return Ok(None) };
        if allowed.contains(&text) {
            return Ok(Some(text));
        }
        let expected = allowed.iter().map(|value| format!("'{value}'")).collect::<Vec<_>>().join(", ");
        Err(ApiError::validation(
            &[self.loc, name],
            "enum",
            format!("Input should be {expected}"),
            Value::String(text.to_owned()),
        ))
    }

    /// The last value of `name`, if sent (empty values count as sent).
    pub(crate) fn raw(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The value of `name`; an empty value reads as absent (httpx sends
    /// `None` kwargs of the continue methods as `key=`).
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|value| !value.is_empty())
    }

    /// Names sent, each once, in order.
    pub(crate) fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (key, _) in &self.pairs {
            if !names.contains(&key.as_str()) {
                names.push(key);
            }
        }
        names
    }

    /// The value of a required field: 422 `missing` when absent.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.raw(name).ok_or_else(|| ApiError::missing(&[self.loc, name]))
    }

    /// A boolean field as pydantic reads one (`true`/`false`, `1`/`0`,
    /// `yes`/`no`, `on`/`off`); `default` when absent or empty.
    pub(crate) fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        let Some(value) = self.text(name) else { return Ok(default) };
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
            "false" | "0" | "no" | "off" | "f" | "n" => Ok(false),
            _ => Err(ApiError::validation(
                &[self.loc, name],
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
                Value::String(value.to_owned()),
            )),
        }
    }

    /// A field holding JSON (`json.dumps` of a value); `None` when absent
    /// or empty; 400 when the JSON does not parse.
    pub(crate) fn json(&self, name: &str) -> Result<Option<Value>, ApiError> {
        let Some(text) = self.text(name) else { return Ok(None) };
        serde_json::from_str(text).map(Some).map_err(|_| ApiError::bad_request(format!("Invalid JSON in {name} field")))
    }

    /// A field holding a JSON object; `null` reads as absent.
    pub(crate) fn json_object(&self, name: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.json(name)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(ApiError::bad_request(format!("{name} must be a JSON object"))),
        }
    }

    /// A field holding a JSON array; `null` reads as absent.
    pub(crate) fn json_array(&self, name: &str) -> Result<Option<Vec<Value>>, ApiError> {
        match self.json(name)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(ApiError::bad_request(format!("{name} must be a JSON array"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_read_as_absent_but_count_as_sent() {
        let fields = Fields::from_pairs(&[("session_id", ""), ("stream", "true")]);
        assert_eq!(fields.text("session_id"), None);
        assert_eq!(fields.raw("session_id"), Some(""));
        assert_eq!(fields.bool("stream", false).ok(), Some(true));
        assert_eq!(fields.bool("background", false).ok(), Some(false));
    }

    #[test]
    fn bad_values_are_typed_errors() {
        let fields = Fields::from_pairs(&[("stream", "maybe"), ("metadata", "{bad"), ("session_state", "[1]")]);
        assert_eq!(fields.bool("stream", true).map_err(|e| e.status().as_u16()), Err(422));
        assert_eq!(fields.json_object("metadata").map_err(|e| e.status().as_u16()), Err(400));
        assert_eq!(fields.json_object("session_state").map_err(|e| e.status().as_u16()), Err(400));
        assert_eq!(fields.required("message").map_err(|e| e.status().as_u16()), Err(422));
    }

    #[test]
    fn the_last_of_repeated_values_wins() {
        let fields = Fields::from_pairs(&[("message", "a"), ("message", "b")]);
        assert_eq!(fields.text("message"), Some("b"));
        assert_eq!(fields.names(), vec!["message"]);
    }
}
