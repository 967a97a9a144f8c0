//! The Postgres schema (its versioned migrations) and the SQL Postgres
//! writes differently (its [`Dialect`]).

use sqlx::Postgres;
use sqlx::postgres::PgQueryResult;

use crate::sql::Dialect;
use crate::sql::migrate::{Migration, Schema};

/// The channel cancel requests are announced on (payload: the run id).
pub(super) const CANCEL_CHANNEL: &str = "agent_run_cancel";

impl Dialect for Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
    const BYTE_ORDER: &'static str = " COLLATE \"C\"";
    // `?|`: the array holds at least one of these strings (served by the GIN index).
    const TOPIC_HAS_OPEN: &'static str = " AND topics ? (";
    const TOPIC_HAS_CLOSE: &'static str = ")::text";
    // The topics of a row as a JSON array, `[]` when the column is not one
    // (a corrupt row must not break topic queries over the others).
    const MEMORY_TOPICS: &'static str = "SELECT DISTINCT (element #>> '{}') COLLATE \"C\" AS topic \
         FROM agent_memories CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(topics) = 'array' \
         THEN topics ELSE '[]'::jsonb END) AS topics (element) \
         WHERE ($1::text IS NULL OR user_id = $1) AND jsonb_typeof(element) = 'string' ORDER BY topic";
    const NOW_MS: &'static str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
    const NOTIFY_CANCEL: Option<&'static str> = Some("SELECT pg_notify('agent_run_cancel', $1)");
    // TEXT cannot hold NUL, JSONB cannot hold `\u0000`.
    const REFUSES_NUL: bool = true;

    const DAY_METRICS: &'static str = "SELECT (r.created_at / 86400) * 86400 AS day, \
         SUM(CASE WHEN s.session_type = 'agent' THEN 1 ELSE 0 END)::bigint AS agent_runs, \
         COUNT(DISTINCT CASE WHEN s.session_type = 'agent' THEN r.session_id END) AS agent_sessions, \
         SUM(CASE WHEN s.session_type = 'team' THEN 1 ELSE 0 END)::bigint AS team_runs, \
         COUNT(DISTINCT CASE WHEN s.session_type = 'team' THEN r.session_id END) AS team_sessions, \
         SUM(CASE WHEN s.session_type = 'workflow' THEN 1 ELSE 0 END)::bigint AS workflow_runs, \
         COUNT(DISTINCT CASE WHEN s.session_type = 'workflow' THEN r.session_id END) AS workflow_sessions, \
         COUNT(DISTINCT r.user_id) AS users, \
         SUM(CASE WHEN jsonb_typeof(r.metrics -> 'input_tokens') = 'number' THEN (r.metrics ->> 'input_tokens')::numeric ELSE 0 END)::bigint AS input_tokens, \
         SUM(CASE WHEN jsonb_typeof(r.metrics -> 'output_tokens') = 'number' THEN (r.metrics ->> 'output_tokens')::numeric ELSE 0 END)::bigint AS output_tokens, \
         SUM(CASE WHEN jsonb_typeof(r.metrics -> 'total_tokens') = 'number' THEN (r.metrics ->> 'total_tokens')::numeric ELSE 0 END)::bigint AS total_tokens, \
         SUM(CASE WHEN jsonb_typeof(r.metrics -> 'cache_read_tokens') = 'number' THEN (r.metrics ->> 'cache_read_tokens')::numeric ELSE 0 END)::bigint AS cache_read_tokens, \
         SUM(CASE WHEN jsonb_typeof(r.metrics -> 'cache_write_tokens') = 'number' THEN (r.metrics ->> 'cache_write_tokens')::numeric ELSE 0 END)::bigint AS cache_write_tokens \
         FROM agent_runs r JOIN agent_sessions s ON s.session_id = r.session_id \
         WHERE r.parent_run_id IS NULL AND r.status <> 'running' AND r.created_at >= $1 AND r.created_at < $2 \
         GROUP BY (r.created_at / 86400) * 86400 ORDER BY day";
    const MODEL_METRICS: &'static str = "SELECT (r.created_at / 86400) * 86400 AS day, r.model AS model, \
         COALESCE(r.model_provider, '') AS provider, COUNT(*) AS runs FROM agent_runs r \
         WHERE r.parent_run_id IS NULL AND r.status <> 'running' AND r.model IS NOT NULL \
         AND r.created_at >= $1 AND r.created_at < $2 \
         GROUP BY (r.created_at / 86400) * 86400, r.model, COALESCE(r.model_provider, '')";

    // lower() folds by the database's locale; translate() folds ASCII only, as SQLite does.
    const ASCII_LOWER: (&'static str, &'static str) =
        ("translate(", ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')");
    const POSITION: &'static str = "strpos";

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn migrate_store(
        store: &crate::sql::SqlStore<Self>,
    ) -> futures::future::BoxFuture<'_, Result<usize, agent_core::StoreError>> {
        Box::pin(store.migrate())
    }
}

/// Serializes migrators across processes (a fixed key: 0x6167_656e_745f_6d65).
pub(super) const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7018690069353426277)";

pub(super) const SCHEMA: Schema = Schema {
    migrations: MIGRATIONS,
    create_version_table: "CREATE TABLE IF NOT EXISTS agent_schema_version (
        version     BIGINT PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at  BIGINT NOT NULL
    )",
    version_table_exists: "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_class \
         WHERE oid = to_regclass('agent_schema_version')",
    backend: "postgres",
};

/// Every migration, oldest first; the last one's version is [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
///
/// JSON columns are `jsonb`, except the messages of a run (and a paused run,
/// which holds messages): those are an opaque versioned document kept as
/// written, which is cheaper to store and load and keeps any text, `\u0000`
/// included.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "sessions, runs and user memories",
        statements: &[
            "CREATE TABLE agent_sessions (
                session_id    TEXT PRIMARY KEY,
                session_type  TEXT NOT NULL,
                component_id  TEXT,
                user_id       TEXT,
                session_name  TEXT,
                session_state JSONB NOT NULL DEFAULT '{}',
                summary       JSONB,
                metrics       JSONB NOT NULL DEFAULT 'null',
                created_at    BIGINT NOT NULL,
                updated_at    BIGINT NOT NULL
            )",
            "CREATE INDEX agent_sessions_type ON agent_sessions (session_type, updated_at)",
            "CREATE INDEX agent_sessions_component ON agent_sessions (component_id, updated_at)",
            "CREATE INDEX agent_sessions_user ON agent_sessions (user_id, updated_at)",
            "CREATE INDEX agent_sessions_updated ON agent_sessions (updated_at)",
            "CREATE INDEX agent_sessions_created ON agent_sessions (created_at)",
            "CREATE TABLE agent_runs (
                seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                session_id    TEXT NOT NULL REFERENCES agent_sessions (session_id) ON DELETE CASCADE,
                run_id        TEXT NOT NULL,
                parent_run_id TEXT,
                component_id  TEXT,
                user_id       TEXT,
                status        TEXT NOT NULL,
                input         TEXT NOT NULL,
                output        TEXT,
                messages      TEXT NOT NULL,
                events        JSONB NOT NULL DEFAULT '[]',
                metrics       JSONB NOT NULL DEFAULT 'null',
                paused        TEXT,
                error         TEXT,
                created_at    BIGINT NOT NULL,
                updated_at    BIGINT NOT NULL,
                UNIQUE (session_id, run_id)
            )",
            "CREATE INDEX agent_runs_session_seq ON agent_runs (session_id, seq)",
            "CREATE INDEX agent_runs_status ON agent_runs (status)",
            "CREATE TABLE agent_memories (
                memory_id  TEXT PRIMARY KEY,
                memory     TEXT NOT NULL,
                topics     JSONB NOT NULL DEFAULT '[]',
                user_id    TEXT,
                agent_id   TEXT,
                team_id    TEXT,
                input      TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )",
            "CREATE INDEX agent_memories_user ON agent_memories (user_id, updated_at)",
            "CREATE INDEX agent_memories_agent ON agent_memories (agent_id)",
            "CREATE INDEX agent_memories_team ON agent_memories (team_id)",
            "CREATE INDEX agent_memories_updated ON agent_memories (updated_at)",
            "CREATE INDEX agent_memories_topics ON agent_memories USING GIN (topics)",
        ],
    },
    Migration {
        version: 2,
        description: "session leases, cancel requests, runs by id",
        statements: &[
            // Unix milliseconds of the request; NULL when none was made.
            "ALTER TABLE agent_runs ADD COLUMN cancel_requested_at BIGINT",
            "CREATE INDEX agent_runs_run_id ON agent_runs (run_id)",
            // No foreign key: a run takes the lease before its session exists.
            "CREATE TABLE agent_session_leases (
                session_id TEXT PRIMARY KEY,
                holder     TEXT NOT NULL,
                expires_at BIGINT NOT NULL
            )",
        ],
    },
    Migration {
        version: 3,
        description: "session metadata; the model, provider and metadata of each run",
        statements: &[
            "ALTER TABLE agent_sessions ADD COLUMN metadata JSONB NOT NULL DEFAULT '{}'",
            "ALTER TABLE agent_runs ADD COLUMN model TEXT",
            "ALTER TABLE agent_runs ADD COLUMN model_provider TEXT",
            "ALTER TABLE agent_runs ADD COLUMN metadata JSONB NOT NULL DEFAULT '{}'",
        ],
    },
    Migration {
        version: 4,
        description: "eval runs",
        statements: &[
            "CREATE TABLE agent_eval_runs (
                id                       TEXT PRIMARY KEY,
                eval_type                TEXT NOT NULL,
                name                     TEXT,
                agent_id                 TEXT,
                team_id                  TEXT,
                workflow_id              TEXT,
                model_id                 TEXT,
                model_provider           TEXT,
                evaluated_component_name TEXT,
                eval_input               JSONB NOT NULL DEFAULT '{}',
                eval_data                JSONB NOT NULL DEFAULT '{}',
                created_at               BIGINT NOT NULL,
                updated_at               BIGINT NOT NULL
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
                trace_id    TEXT PRIMARY KEY,
                name        TEXT NOT NULL,
                status      TEXT NOT NULL,
                start_time  BIGINT NOT NULL,
                end_time    BIGINT NOT NULL,
                duration_ms BIGINT NOT NULL,
                total_spans BIGINT NOT NULL,
                error_count BIGINT NOT NULL,
                run_id      TEXT,
                session_id  TEXT,
                user_id     TEXT,
                agent_id    TEXT,
                team_id     TEXT,
                workflow_id TEXT,
                input       TEXT,
                output      TEXT,
                error       TEXT,
                created_at  BIGINT NOT NULL
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
                start_time     BIGINT NOT NULL,
                end_time       BIGINT NOT NULL,
                input          TEXT,
                output         TEXT,
                attributes     JSONB NOT NULL DEFAULT '{}',
                position       BIGINT NOT NULL,
                PRIMARY KEY (trace_id, span_id)
            )",
            "CREATE INDEX agent_trace_spans_position ON agent_trace_spans (trace_id, position)",
        ],
    },
];
