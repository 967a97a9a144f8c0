//! The OpenAPI 3.1 document, generated from the route table so it lists exactly the routes the router serves.

use serde_json::{Map, Value, json};

use crate::os::Shared;
use crate::routes::{Body, table};

/// The document: every route with its parameters, body and answers.
pub(crate) fn document(shared: &Shared) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for route in table() {
        let mut operation = json!({
            "tags": [route.tag],
            "summary": route.summary,
            "operationId": operation_id(route.method.as_str(), &route.path),
            "responses": responses(route.streams),
        });
        let parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(body) = request_body(route.body) {
            operation["requestBody"] = body;
        }
        let entry = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
        entry[route.method.as_str().to_ascii_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": shared.name,
            "version": env!("CARGO_PKG_VERSION"),
            "description": shared.description.clone().unwrap_or_else(|| "An AgentOS API served by agent-os".into()),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["detail"],
                    "properties": {"detail": {"description": "A message, or a list of validation errors"}},
                },
            },
        },
        "security": if shared.security_key.is_some() { json!([{"bearer": []}]) } else { json!([]) },
    })
}

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        id.push('_');
        id.push_str(&segment.replace(['{', '}'], "").replace('-', "_"));
    }
    if path == "/" {
        id.push_str("_root");
    }
    id
}

fn responses(streams: bool) -> Value {
    let error = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut ok = json!({"description": "Success", "content": {"application/json": {"schema": {}}}});
    if streams {
        ok["content"]["text/event-stream"] = json!({"schema": {"type": "string"}});
        ok["description"] = json!("The run output (stream=false) or its events as SSE (stream=true)");
    }
    let with = |description: &str| {
        let mut answer = error.clone();
        answer["description"] = json!(description);
        answer
    };
    json!({
        "200": ok,
        "400": with("Bad request"),
        "401": with("Missing or wrong security key"),
        "404": with("Not found"),
        "409": with("Conflict: a busy session, a run already claimed"),
        "413": with("Body too large"),
        "422": with("Validation error"),
        "503": with("Not configured: no store (sessions), no knowledge base (knowledge)"),
    })
}

fn form_schema(fields: &[(&str, &str, &str)], required: &[&str]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|(name, kind, description)| ((*name).to_owned(), json!({"type": kind, "description": description})))
        .collect();
    json!({"type": "object", "properties": properties, "required": required})
}

fn request_body(body: Body) -> Option<Value> {
    let schema = match body {
        Body::None => return None,
        Body::Json => {
            return Some(json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}}));
        }
        Body::RunForm => form_schema(
            &[
                ("message", "string", "The input message"),
                ("stream", "boolean", "Answer with SSE events (default true)"),
                ("session_id", "string", "The session; a new one when absent"),
                ("user_id", "string", "The user"),
                ("session_state", "string", "JSON object: the session state"),
                ("metadata", "string", "JSON object: the run's metadata"),
                ("dependencies", "string", "JSON object: dependencies, when the server takes them"),
                ("images", "string", "JSON array of images (url or base64 content)"),
                ("input_files", "string", "JSON array of files (url or base64 content)"),
                ("background", "boolean", "Run in the background: 202 at once (needs a store)"),
            ],
            &["message"],
        ),
        Body::Form { fields, required } => form_schema(fields, required),
        Body::ContinueForm => form_schema(
            &[
                ("tools", "string", "JSON array of ToolExecution decisions (agents)"),
                ("requirements", "string", "JSON array of RunRequirement decisions (teams)"),
                ("step_requirements", "string", "JSON array of step requirements (workflows)"),
                ("stream", "boolean", "Answer with SSE events (default true)"),
                ("session_id", "string", "The paused run's session"),
                ("user_id", "string", "The user"),
                ("background", "boolean", "Run in the background: 202 at once (needs a store)"),
            ],
            &[],
        ),
    };
    Some(json!({
        "required": true,
        "content": {
            "application/x-www-form-urlencoded": {"schema": schema},
            "multipart/form-data": {"schema": schema},
        },
    }))
}
