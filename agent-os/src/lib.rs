//! Serve agents, teams and workflows over the AgentOS HTTP API, so that AgentOS clients — the Python
//! `agno.client.AgentOSClient`, UIs and scripts written for Agno's AgentOS — work against Rust agents
//! unmodified.
//!
//! [`AgentOs::builder`] takes the agents, teams and workflows to serve and the store; the result
//! gives an axum [`Router`](axum::Router) to mount in your own service ([`AgentOs::router`]) or
//! serves it with graceful shutdown ([`AgentOs::serve`], [`AgentOs::run`]).
//!
//! Runs: `POST /agents|teams|workflows/{id}/runs` (URL-encoded or multipart forms; `stream=true`
//! answers with SSE), `.../runs/{run_id}/continue` (decisions on paused tool calls, on any process
//! sharing the database), `.../runs/{run_id}/cancel`. Discovery: `/`, `/health`, `/config`,
//! `/models`, `/agents`, `/teams`, `/workflows` and one of each. Knowledge
//! ([`AgentOsBuilder::knowledge`], several by name): `/knowledge/content` (uploads of text, URLs
//! or files, ingested in the background; list, read, update, delete, status),
//! `/knowledge/search` (keyword, vector, hybrid), `/knowledge/config`, `/knowledge/remote-content`
//! and the sources of `/knowledge/{knowledge_id}/sources`. Evals: `POST /eval-runs` runs a
//! reliability, accuracy, agent-as-judge or performance eval on a served component and stores it
//! ([`AgentOsBuilder::eval_store`]); `GET`, `PATCH` and `DELETE` read, rename and delete eval runs.
//! `/openapi.json` documents every route. The wire contract is Agno's: errors as
//! `{"detail": ...}`, upper-case run statuses, events named as Agno names them.

mod a2a;
mod auth;
mod component;
mod decisions;
mod deps;
mod error;
mod evaluate;
mod form;
mod json;
mod media;
mod openapi;
mod os;
mod routes;
mod runs;
mod wire;

pub use deps::Deps;
pub use error::{Error, Result};
pub use os::{AgentOs, AgentOsBuilder, DEFAULT_BODY_LIMIT, DEFAULT_SHUTDOWN_GRACE};
