//! Knowledge routes: the route table of `/knowledge/*`, choosing the knowledge base a request names, content items in agno's JSON, and knowledge errors as answers.

mod content;
mod search;
mod sources;
mod upload;

use agent_core::StoreError;
use agent_core::knowledge::KnowledgeError;
use agent_memory::KnowledgeBase;
use agent_memory::knowledge::Content;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use serde_json::{Value, json};

use super::page::{Answer, answer};
use super::{Body, Route, route, with_json};
use crate::error::ApiError;
use crate::form::Fields;
use crate::os::Shared;

const TAG: &str = "Knowledge";

/// The fields of `POST /knowledge/content`.
const UPLOAD_FIELDS: &[(&str, &str, &str)] = &[
    ("file", "string", "A file to add (multipart only)"),
    ("text_content", "string", "Text to add"),
    ("url", "string", "An http(s) URL to fetch and add"),
    ("name", "string", "The item's name (default: the file name, the URL)"),
    ("description", "string", "What the content is about"),
    ("metadata", "string", "JSON object: metadata copied onto every chunk, for filters"),
    ("reader_id", "string", "The reader: text, markdown, html, pdf, csv, json"),
    ("chunker", "string", "FixedSizeChunker, RecursiveChunker or MarkdownChunker"),
    ("chunk_size", "integer", "Characters per chunk"),
    ("chunk_overlap", "integer", "Characters shared by consecutive chunks"),
];

/// The fields of `POST /knowledge/remote-content`.
const REMOTE_FIELDS: &[(&str, &str, &str)] = &[
    ("config_id", "string", "The source's id (see /knowledge/config)"),
    ("path", "string", "The file's key in the source"),
    ("name", "string", "The item's name (default: the key)"),
    ("description", "string", "What the content is about"),
    ("metadata", "string", "JSON object: metadata copied onto every chunk"),
    ("reader_id", "string", "The reader"),
    ("chunker", "string", "The chunker"),
    ("chunk_size", "integer", "Characters per chunk"),
    ("chunk_overlap", "integer", "Characters shared by consecutive chunks"),
];

/// The fields of `PATCH /knowledge/content/{content_id}`.
const UPDATE_FIELDS: &[(&str, &str, &str)] = &[
    ("name", "string", "New name"),
    ("description", "string", "New description"),
    ("metadata", "string", "JSON object: new metadata, replacing the old"),
    ("reader_id", "string", "A reader id (checked; content is not read again)"),
];

fn with_form(
    mut route: Route,
    fields: &'static [(&'static str, &'static str, &'static str)],
    required: &'static [&'static str],
) -> Route {
    route.body = Body::Form { fields, required };
    route
}

/// The knowledge routes.
pub(super) fn routes() -> Vec<Route> {
    let content_id = "/knowledge/content/{content_id}";
    vec![
        with_form(
            route(
                Method::POST,
                "/knowledge/content",
                TAG,
                "Add a file, text or URL; ingested in the background (202)",
                post(upload::upload),
            ),
            UPLOAD_FIELDS,
            &[],
        ),
        route(Method::GET, "/knowledge/content", TAG, "Content items, sorted and paged", get(content::list)),
        route(Method::DELETE, "/knowledge/content", TAG, "Delete every content item", delete(content::delete_all)),
        route(Method::GET, content_id, TAG, "One content item", get(content::one)),
        with_form(
            route(
                Method::PATCH,
                content_id,
                TAG,
                "Change an item's name, description or metadata",
                patch(content::update),
            ),
            UPDATE_FIELDS,
            &[],
        ),
        route(Method::DELETE, content_id, TAG, "Delete a content item and its chunks", delete(content::delete)),
        route(
            Method::GET,
            "/knowledge/content/{content_id}/status",
            TAG,
            "An item's ingestion status: processing, completed or failed",
            get(content::status),
        ),
        with_json(route(
            Method::POST,
            "/knowledge/search",
            TAG,
            "Keyword, vector or hybrid search with filters, paged",
            post(search::search),
        )),
        route(
            Method::GET,
            "/knowledge/config",
            TAG,
            "Readers, chunkers, search types, filters and sources",
            get(search::config),
        ),
        with_form(
            route(
                Method::POST,
                "/knowledge/remote-content",
                TAG,
                "Add a file from a content source; ingested in the background (202)",
                post(upload::remote),
            ),
            REMOTE_FIELDS,
            &["config_id", "path"],
        ),
        route(
            Method::GET,
            "/knowledge/{knowledge_id}/sources",
            TAG,
            "A knowledge base's content sources",
            get(sources::list),
        ),
        route(
            Method::GET,
            "/knowledge/{knowledge_id}/sources/{source_id}/files",
            TAG,
            "One level of a content source: folders and a page of files",
            get(sources::files),
        ),
    ]
}

/// The database id a knowledge base is shown with: its name, like its id.
pub(crate) fn db_id(knowledge: &KnowledgeBase) -> &str {
    knowledge.name()
}

fn unavailable() -> ApiError {
    ApiError::unavailable(
        "No knowledge base is available on this AgentOS. Add one with `.knowledge(..)` on the AgentOS builder.",
    )
}

/// The knowledge base a request names by `knowledge_id` or `db_id`; the first when it names none.
fn select<'a>(
    shared: &'a Shared,
    knowledge_id: Option<&str>,
    db_id: Option<&str>,
) -> Result<&'a KnowledgeBase, ApiError> {
    let first = shared.knowledge.first().ok_or_else(unavailable)?;
    if let Some(id) = knowledge_id {
        return shared
            .knowledge
            .iter()
            .find(|knowledge| knowledge.name() == id)
            .ok_or_else(|| ApiError::not_found(format!("Knowledge base '{id}' not found")));
    }
    if let Some(db) = db_id {
        return shared
            .knowledge
            .iter()
            .find(|knowledge| self::db_id(knowledge) == db)
            .ok_or_else(|| ApiError::not_found(format!("Knowledge instance with db_id '{db}' not found")));
    }
    Ok(first)
}

/// The knowledge base the query's `knowledge_id` / `db_id` name.
fn from_query<'a>(shared: &'a Shared, query: &Fields) -> Result<&'a KnowledgeBase, ApiError> {
    select(shared, query.text("knowledge_id"), query.text("db_id"))
}

/// A content item as `ContentResponseSchema`: `size` a string, times in RFC 3339.
fn content_json(content: &Content) -> Value {
    json!({
        "id": content.id,
        "name": content.name,
        "description": content.description,
        "type": content.content_type,
        "size": content.size.to_string(),
        "linked_to": null,
        "metadata": content.metadata,
        "access_count": content.access_count,
        "status": content.status.as_str(),
        "status_message": content.status_message,
        "created_at": agent_core::support::rfc3339::format(content.created_at),
        "updated_at": agent_core::support::rfc3339::format(content.updated_at),
    })
}

fn content_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Content not found: {id}"))
}

/// A knowledge error as an answer: what the request got wrong is a 4xx; the
/// store's and the embedder's failures are logged and answered without their text.
fn knowledge_error(err: KnowledgeError) -> ApiError {
    match err {
        KnowledgeError::Store(StoreError::NotFound { what: "source", id }) => {
            ApiError::not_found(format!("Content source not found: {id}"))
        }
        KnowledgeError::Store(StoreError::NotFound { id, .. }) => content_not_found(&id),
        KnowledgeError::Store(StoreError::Invalid(message)) => ApiError::bad_request(message),
        KnowledgeError::Invalid(message) => ApiError::bad_request(message),
        KnowledgeError::Read(message) => ApiError::bad_request(message),
        err @ KnowledgeError::Unsupported(_) => ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, err.to_string()),
        err @ KnowledgeError::Empty => ApiError::bad_request(err.to_string()),
        err @ (KnowledgeError::Embedder(_) | KnowledgeError::Timeout(_)) => {
            tracing::warn!(error = %err, "the knowledge base's embedder failed");
            ApiError::new(StatusCode::BAD_GATEWAY, "The embedder failed; try again, or search by keyword")
        }
        other => ApiError::internal(&other),
    }
}

/// The `knowledge` section of `/config`: each knowledge base as its own database.
pub(crate) fn config_section(shared: &Shared) -> Option<Value> {
    if shared.knowledge.is_empty() {
        return None;
    }
    let dbs: Vec<Value> = shared
        .knowledge
        .iter()
        .map(|knowledge| {
            json!({
                "db_id": db_id(knowledge),
                "domain_config": {"display_name": knowledge.name()},
                "tables": [knowledge.store().content_table()],
            })
        })
        .collect();
    let instances: Vec<Value> = shared
        .knowledge
        .iter()
        .map(|knowledge| {
            json!({
                "id": knowledge.name(),
                "name": knowledge.name(),
                "db_id": db_id(knowledge),
                "table": knowledge.store().content_table(),
            })
        })
        .collect();
    Some(json!({"display_name": "Knowledge", "dbs": dbs, "knowledge_instances": instances}))
}
