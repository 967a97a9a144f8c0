//! The SQLite schema (its versioned migrations) and the SQL SQLite writes
//! differently (its [`Dialect`]).

use sqlx::Sqlite;
use sqlx::sqlite::SqliteQueryResult;

use crate::sql::Dialect;
use crate::sql::migrate::{Migration, Schema};

impl Dialect for Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    // SQLite compares text byte by byte (BINARY) already.
    const BYTE_ORDER: &'static str = "";
    // The topics of a row as a JSON array, `[]` when the column is not one
    // (a corrupt row must not break topic queries over the others).
    const TOPIC_HAS_OPEN: &'static str = " AND EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(topics) \
         AND json_type(topics) = 'array' THEN topics ELSE '[]' END) WHERE json_each.value = ";
    const TOPIC_HAS_CLOSE: &'static str = ")";
    const MEMORY_TOPICS: &'static str = "SELECT DISTINCT CAST(json_each.value AS TEXT) AS topic \
         FROM agent_memories, json_each(CASE WHEN json_valid(topics) AND json_type(topics) = 'array' \
         THEN topics ELSE '[]' END) WHERE ($1 IS NULL OR user_id = $1) AND json_each.type = 'text' ORDER BY topic";
    const NOW_MS: &'static str = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
    const NOTIFY_CANCEL: Option<&'static str> = None;
    const REFUSES_NUL: bool = false;

    const DAY_METRICS: &'static str = "SELECT (r.created_at / 86400) * 86400 AS day, \
         SUM(CASE WHEN s.session_type = 'agent' THEN 1 ELSE 0 END) AS agent_runs, \
         COUNT(DISTINCT CASE WHEN s.session_type = 'agent' THEN r.session_id END) AS agent_sessions, \
         SUM(CASE WHEN s.session_type = 'team' THEN 1 ELSE 0 END) AS team_runs, \
         COUNT(DISTINCT CASE WHEN s.session_type = 'team' THEN r.session_id END) AS team_sessions, \
         SUM(CASE WHEN s.session_type = 'workflow' THEN 1 ELSE 0 END) AS workflow_runs, \
         COUNT(DISTINCT CASE WHEN s.session_type = 'workflow' THEN r.session_id END) AS workflow_sessions, \
         COUNT(DISTINCT r.user_id) AS users, \
         SUM(CASE WHEN json_valid(r.metrics) THEN COALESCE(CAST(json_extract(r.metrics, '$.input_tokens') AS INTEGER), 0) ELSE 0 END) AS input_tokens, \
         SUM(CASE WHEN json_valid(r.metrics) THEN COALESCE(CAST(json_extract(r.metrics, '$.output_tokens') AS INTEGER), 0) ELSE 0 END) AS output_tokens, \
         SUM(CASE WHEN json_valid(r.metrics) THEN COALESCE(CAST(json_extract(r.metrics, '$.total_tokens') AS INTEGER), 0) ELSE 0 END) AS total_tokens, \
         SUM(CASE WHEN json_valid(r.metrics) THEN COALESCE(CAST(json_extract(r.metrics, '$.cache_read_tokens') AS INTEGER), 0) ELSE 0 END) AS cache_read_tokens, \
         SUM(CASE WHEN json_valid(r.metrics) THEN COALESCE(CAST(json_extract(r.metrics, '$.cache_write_tokens') AS INTEGER), 0) ELSE 0 END) AS cache_write_tokens \
         FROM agent_runs r JOIN agent_sessions s ON s.session_id = r.session_id \
         WHERE r.parent_run_id IS NULL AND r.status <> 'running' AND r.created_at >= $1 AND r.created_at < $2 \
         GROUP BY (r.created_at / 86400) * 86400 ORDER BY day";
    const MODEL_METRICS: &'static str = "SELECT (r.created_at / 86400) * 86400 AS day, r.model AS model, \
         COALESCE(r.model_provider, '') AS provider, COUNT(*) AS runs FROM agent_runs r \
         WHERE r.parent_run_id IS NULL AND r.status <> 'running' AND r.model IS NOT NULL \
         AND r.created_at >= $1 AND r.created_at < $2 \
         GROUP BY (r.created_at / 86400) * 86400, r.model, COALESCE(r.model_provider, '')";

    // SQLite's built-in lower() folds ASCII only.
    const ASCII_LOWER: (&'static str, &'static str) = ("lower(", ")");
    const POSITION: &'static str = "instr";

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn migrate_store(
        store: &crate::sql::SqlStore<Self>,
    ) -> futures::future::BoxFuture<'_, Result<usize, agent_core::StoreError>> {
        Box::pin(store.migrate())
    }
}

pub(super) const SCHEMA: Schema = Schema {
    migrations: MIGRATIONS,
    create_version_table: "CREATE TABLE IF NOT EXISTS agent_schema_version (
        version     INTEGER PRIMARY KEY NOT NULL,
        description TEXT NOT NULL,
        applied_at  INTEGER NOT NULL
    )",
    version_table_exists: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'agent_schema_version'",
    backend: "sqlite",
};

/// Every migration, oldest first; the last one's version is [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "sessions, runs and user memories",
        statements: &[
            "CREATE TABLE agent_sessions (
                session_id    TEXT PRIMARY KEY NOT NULL,
                session_type  TEXT NOT NULL,
                component_id  TEXT,
                user_id       TEXT,
                session_name  TEXT,
                session_state TEXT NOT NULL DEFAULT '{}',
                summary       TEXT,
                metrics       TEXT NOT NULL DEFAULT 'null',
                created_at    INTEGER NOT NULL,
                updated_at    INTEGER NOT NULL
            )",
            "CREATE INDEX agent_sessions_type ON agent_sessions (session_type, updated_at)",
            "CREATE INDEX agent_sessions_component ON agent_sessions (component_id, updated_at)",
            "CREATE INDEX agent_sessions_user ON agent_sessions (user_id, updated_at)",
            "CREATE INDEX agent_sessions_updated ON agent_sessions (updated_at)",
            "CREATE INDEX agent_sessions_created ON agent_sessions (created_at)",
            // `seq` (the rowid) keeps the order runs were first saved in; a
            // replaced run keeps its place.
            "CREATE TABLE agent_runs (
                seq           INTEGER PRIMARY KEY,
                session_id    TEXT NOT NULL REFERENCES agent_sessions (session_id) ON DELETE CASCADE,
                run_id        TEXT NOT NULL,
                parent_run_id TEXT,
                component_id  TEXT,
                user_id       TEXT,
                status        TEXT NOT NULL,
                input         TEXT NOT NULL,
                output        TEXT,
                messages      TEXT NOT NULL,
                events        TEXT NOT NULL DEFAULT '[]',
                metrics       TEXT NOT NULL DEFAULT 'null',
                paused        TEXT,
                error         TEXT,
                created_at    INTEGER NOT NULL,
                updated_at    INTEGER NOT NULL,
                UNIQUE (session_id, run_id)
            )",
            "CREATE INDEX agent_runs_status ON agent_runs (status)",
            "CREATE TABLE agent_memories (
                memory_id  TEXT PRIMARY KEY NOT NULL,
                memory     TEXT NOT NULL,
                topics     TEXT NOT NULL DEFAULT '[]',
                user_id    TEXT,
                agent_id   TEXT,
                team_id    TEXT,
                input      TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )",
            "CREATE INDEX agent_memories_user ON agent_memories (user_id, updated_at)",
            "CREATE INDEX agent_memories_agent ON agent_memories (agent_id)",
            "CREATE INDEX agent_memories_team ON agent_memories (team_id)",
            "CREATE INDEX agent_memories_updated ON agent_memories (updated_at)",
        ],
    },
    Migration {
        version: 2,
        description: "session leases, cancel requests, runs by id",
        statements: &[
            // Unix milliseconds of the request; NULL when none was made.
            "ALTER TABLE agent_runs ADD COLUMN cancel_requested_at INTEGER",
            "CREATE INDEX agent_runs_run_id ON agent_runs (run_id)",
            // No foreign key: a run takes the lease before its session exists.
            "CREATE TABLE agent_session_leases (
                session_id TEXT PRIMARY KEY NOT NULL,
                holder     TEXT NOT NULL,
                expires_at INTEGER NOT NULL
            )",
        ],
    },
    Migration {
        version: 3,
        description: "session metadata; the model, provider and metadata of each run",
        statements: &[
            "ALTER TABLE agent_sessions ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE agent_runs ADD COLUMN model TEXT",
            "ALTER TABLE agent_runs ADD COLUMN model_provider TEXT",
            "ALTER TABLE agent_runs ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}'",
        ],
    },
    Migration {
        version: 4,
        description: "eval runs",
        statements: &[
            "CREATE TABLE agent_eval_runs (
                id                       TEXT PRIMARY KEY NOT NULL,
                eval_type                TEXT NOT NULL,
                name                     TEXT,
                agent_id                 TEXT,
                team_id                  TEXT,
                workflow_id              TEXT,
                model_id                 TEXT,
                model_provider           TEXT,
                evaluated_component_name TEXT,
                eval_input               TEXT NOT NULL DEFAULT '{}',
                eval_data                TEXT NOT NULL DEFAULT '{}',
                created_at               INTEGER NOT NULL,
                updated_at               INTEGER NOT NULL
            )",
            "CREATE INDEX agent_eval_runs_created ON agent_eval_runs (created_at)",
            "CREATE INDEX agent_eval_runs_agent ON agent_eval_runs (agent_id, created_at)",
            "CREATE INDEX agent_eval_runs_team ON agent_eval_runs (team_id, created_at)",
            "CREATE INDEX agent_eval_runs_workflow ON agent_eval_runs (workflow_id, created_at)",
            "CREATE INDEX agent_eval_runs_type ON agent_eval_runs (eval_type, created_at)",
        ],
    },
    Migration {
        version: 5,
        description: "traces and their spans",
        statements: &[
            // Times are unix microseconds.
            "CREATE TABLE agent_traces (
                trace_id    TEXT PRIMARY KEY NOT NULL,
                name        TEXT NOT NULL,
                status      TEXT NOT NULL,
                start_time  INTEGER NOT NULL,
                end_time    INTEGER NOT NULL,
                duration_ms INTEGER NOT NULL,
                total_spans INTEGER NOT NULL,
                error_count INTEGER NOT NULL,
                run_id      TEXT,
                session_id  TEXT,
                user_id     TEXT,
                agent_id    TEXT,
                team_id     TEXT,
                workflow_id TEXT,
                input       TEXT,
                output      TEXT,
                error       TEXT,
                created_at  INTEGER NOT NULL
            )",
            "CREATE INDEX agent_traces_start ON agent_traces (start_time)",
            "CREATE INDEX agent_traces_run ON agent_traces (run_id)",
            "CREATE INDEX agent_traces_session ON agent_traces (session_id, created_at)",
            // `position`: the order the spans started in, within their trace.
            "CREATE TABLE agent_trace_spans (
                trace_id       TEXT NOT NULL REFERENCES agent_traces (trace_id) ON DELETE CASCADE,
                span_id        TEXT NOT NULL,
                parent_span_id TEXT,
                name           TEXT NOT NULL,
                kind           TEXT NOT NULL,
                status         TEXT NOT NULL,
                status_message TEXT,
                start_time     INTEGER NOT NULL,
                end_time       INTEGER NOT NULL,
                input          TEXT,
                output         TEXT,
                attributes     TEXT NOT NULL DEFAULT '{}',
                position       INTEGER NOT NULL,
                PRIMARY KEY (trace_id, span_id)
            )",
            "CREATE INDEX agent_trace_spans_position ON agent_trace_spans (trace_id, position)",
        ],
    },
];
