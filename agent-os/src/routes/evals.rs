//! Eval routes: run an eval on a served agent, team or workflow and store it; list (filters, paging, sorting), read, rename and bulk-delete eval runs.

use std::sync::Arc;

use agent_core::SessionType;
use agent_core::SortOrder;
use agent_core::eval::{EvalQuery, EvalRun, EvalSort, EvalStore, EvalType};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::page::{Answer, answer, limit_and_page, paged};
use crate::error::ApiError;
use crate::evaluate::{EvalRunInput, plan};
use crate::form::Fields;
use crate::json::JsonBody;
use crate::os::Shared;

fn store_of(shared: &Shared) -> Result<Arc<dyn EvalStore>, ApiError> {
    shared.eval_store.clone().ok_or_else(|| {
        ApiError::unavailable("No eval store is configured on this AgentOS: give it one with `.eval_store(..)`")
    })
}

/// An eval run as `EvalSchema`.
fn eval_json(run: &EvalRun) -> Value {
    json!({
        "id": run.id,
        "eval_type": run.eval_type.as_str(),
        "name": run.name,
        "agent_id": run.agent_id,
        "team_id": run.team_id,
        "workflow_id": run.workflow_id,
        "model_id": run.model_id,
        "model_provider": run.model_provider,
        "evaluated_component_name": run.evaluated_component_name,
        "eval_input": run.eval_input,
        "eval_data": run.eval_data,
        "created_at": agent_core::support::rfc3339::format(run.created_at),
        "updated_at": agent_core::support::rfc3339::format(run.updated_at),
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Eval run with id '{id}' not found"))
}

pub(super) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    answer(list_eval_runs(shared, query).await)
}

async fn list_eval_runs(shared: Arc<Shared>, query: Option<String>) -> Answer {
    let query = Fields::from_query(query.as_deref())?;
    let (limit, page) = limit_and_page(&query)?;
    let sort_by = match query.choice("sort_by", &["created_at", "updated_at", "name"])? {
        Some("updated_at") => EvalSort::UpdatedAt,
        Some("name") => EvalSort::Name,
        _ => EvalSort::CreatedAt,
    };
    let sort_order = match query.choice("sort_order", &["asc", "desc"])? {
        Some("asc") => SortOrder::Asc,
        _ => SortOrder::Desc,
    };
    let component = query.choice("type", &["agent", "team", "workflow"])?.and_then(SessionType::parse);
    let mut eval_types = Vec::new();
    // One comma-joined value (`eval_types=reliability,accuracy`), as the client sends it.
    for name in query.all("eval_types").into_iter().flat_map(|value| value.split(',')).map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let eval_type = EvalType::parse(name).ok_or_else(|| {
            let allowed = EvalType::ALL.iter().map(|kind| format!("'{}'", kind.as_str())).collect::<Vec<_>>();
            ApiError::validation(
                &["query", "eval_types"],
                "enum",
                format!("Input should be {}", allowed.join(", ")),
                json!(name),
            )
        })?;
        if !eval_types.contains(&eval_type) {
            eval_types.push(eval_type);
        }
    }
    let store = store_of(&shared)?;
    let filter = EvalQuery {
        agent_id: query.text("agent_id").map(str::to_owned),
        team_id: query.text("team_id").map(str::to_owned),
        workflow_id: query.text("workflow_id").map(str::to_owned),
        model_id: query.text("model_id").map(str::to_owned),
        component,
        eval_types,
        limit: Some(limit),
        page: Some(page),
        sort_by,
        sort_order,
    };
    let found = store.list_eval_runs(&filter).await.map_err(ApiError::from_store)?;
    Ok(Json(paged(found.items.iter().map(eval_json).collect(), page, limit, found.total)).into_response())
}

pub(super) async fn one(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    answer(read_eval_run(shared, id).await)
}

async fn read_eval_run(shared: Arc<Shared>, id: String) -> Answer {
    let store = store_of(&shared)?;
    let run = store.eval_run(&id).await.map_err(ApiError::from_store)?.ok_or_else(|| not_found(&id))?;
    Ok(Json(eval_json(&run)).into_response())
}

/// The body of a rename (`UpdateEvalRunRequest`).
#[derive(Deserialize)]
pub(super) struct Rename {
    name: String,
}

pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Result<JsonBody<Rename>, ApiError>,
) -> Response {
    answer(rename_eval_run(shared, id, body).await)
}

async fn rename_eval_run(shared: Arc<Shared>, id: String, body: Result<JsonBody<Rename>, ApiError>) -> Answer {
    let JsonBody(body) = body?;
    let store = store_of(&shared)?;
    let run =
        store.rename_eval_run(&id, &body.name).await.map_err(ApiError::from_store)?.ok_or_else(|| not_found(&id))?;
    Ok(Json(eval_json(&run)).into_response())
}

/// The body of a bulk delete (`DeleteEvalRunsRequest`).
#[derive(Deserialize)]
pub(super) struct DeleteMany {
    eval_run_ids: Vec<String>,
}

pub(super) async fn delete_many(
    State(shared): State<Arc<Shared>>,
    body: Result<JsonBody<DeleteMany>, ApiError>,
) -> Response {
    answer(delete_eval_runs(shared, body).await)
}

async fn delete_eval_runs(shared: Arc<Shared>, body: Result<JsonBody<DeleteMany>, ApiError>) -> Answer {
    let JsonBody(body) = body?;
    let store = store_of(&shared)?;
    store.delete_eval_runs(&body.eval_run_ids).await.map_err(ApiError::from_store)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn run(State(shared): State<Arc<Shared>>, body: Result<JsonBody<EvalRunInput>, ApiError>) -> Response {
    answer(run_eval(shared, body).await)
}

/// Runs the eval in its own task, so a client that goes away does not stop
/// it half-way: it finishes and is stored either way.
async fn run_eval(shared: Arc<Shared>, body: Result<JsonBody<EvalRunInput>, ApiError>) -> Answer {
    let JsonBody(input) = body?;
    let store = store_of(&shared)?;
    let planned = plan(&shared, input)?;
    let task = tokio::spawn(async move {
        let mut record = planned.eval.run_on(&planned.target).await.map_err(|err| eval_error(&err))?;
        record.name = planned.name;
        store.create_eval_run(&record).await.map_err(ApiError::from_store)?;
        Ok::<_, ApiError>(record)
    });
    let record = task.await.map_err(|err| ApiError::internal(&format!("the eval task failed: {err}")))??;
    Ok(Json(eval_json(&record)).into_response())
}

/// An error of the eval itself (its judge), not of the evaluated runs.
fn eval_error(error: &agent_core::Error) -> ApiError {
    use agent_core::Error as E;
    match error {
        E::InvalidInput(message) => ApiError::bad_request(message.clone()),
        E::Model(model) => ApiError::new(StatusCode::BAD_GATEWAY, format!("the judge model failed: {model}")),
        E::OutputValidation { message, .. } => {
            ApiError::new(StatusCode::BAD_GATEWAY, format!("the judge model's answer was refused: {message}"))
        }
        other => ApiError::internal(other),
    }
}
