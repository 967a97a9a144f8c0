//! Discovery routes: `/`, `/health`, `/config`, `/models`, `/openapi.json`, and the agents, teams and workflows served.

use std::sync::Arc;

use agent_core::SessionType;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::os::Shared;

pub(super) async fn root(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({
        "name": shared.name,
        "id": shared.id,
        "version": env!("CARGO_PKG_VERSION"),
        "health": "/health",
        "docs": "/openapi.json",
    }))
}

pub(super) async fn health(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let seconds = shared.instantiated_at.div_euclid(1_000_000);
    let micros = shared.instantiated_at.rem_euclid(1_000_000);
    let base = agent_core::support::rfc3339::format(seconds);
    let at = format!("{}.{micros:06}Z", base.trim_end_matches('Z'));
    Json(json!({"status": "ok", "instantiated_at": at}))
}

pub(super) async fn openapi(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(crate::openapi::document(&shared))
}

/// The distinct models of the served components, as `{id, provider}`.
fn available_models(shared: &Shared) -> Vec<Value> {
    let mut models: Vec<Value> = Vec::new();
    for component in &shared.components {
        let summary = component.summary(None);
        if let Some(model) = summary.get("model").filter(|model| model.is_object())
            && !models.contains(model)
        {
            models.push(model.clone());
        }
    }
    models
}

pub(super) async fn models(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(Value::Array(available_models(&shared)))
}

pub(super) async fn config(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let summaries = |kind: SessionType| -> Vec<Value> {
        shared.of_kind(kind).map(|component| component.summary(shared.db_id_of(component.store()).as_deref())).collect()
    };
    let databases: Vec<String> = shared.stores().iter().filter_map(|store| shared.db_id_of(Some(store))).collect();
    let domain = |display: &str, tables: &[&str]| -> Value {
        let dbs: Vec<Value> = databases
            .iter()
            .map(|db_id| json!({"db_id": db_id, "domain_config": {"display_name": display}, "tables": tables}))
            .collect();
        json!({"display_name": display, "dbs": dbs})
    };
    let mut value = json!({
        "os_id": shared.id,
        "name": shared.name,
        "description": shared.description,
        "databases": databases,
        "agents": summaries(SessionType::Agent),
        "teams": summaries(SessionType::Team),
        "workflows": summaries(SessionType::Workflow),
        "interfaces": [],
        "available_models": available_models(&shared),
        "session": domain("Sessions", &["sessions", "runs"]),
        "memory": domain("Memory", &["memories"]),
    });
    if shared.eval_store.is_some() {
        value["evals"] = domain("Evals", &["eval_runs"]);
    }
    if let Some(knowledge) = super::knowledge::config_section(&shared) {
        value["knowledge"] = knowledge;
    }
    Json(value)
}

pub(super) async fn list(State(shared): State<Arc<Shared>>, kind: SessionType) -> Json<Value> {
    Json(Value::Array(
        shared
            .of_kind(kind)
            .map(|component| component.describe(shared.db_id_of(component.store()).as_deref()))
            .collect(),
    ))
}

pub(super) async fn one(State(shared): State<Arc<Shared>>, Path(id): Path<String>, kind: SessionType) -> Response {
    match shared.component(kind, &id) {
        Ok(component) => Json(component.describe(shared.db_id_of(component.store()).as_deref())).into_response(),
        Err(err) => err.into_response(),
    }
}
