//! The Postgres schema, its versioned migrations and the migration runner.

use agent_core::StoreError;
use sqlx::PgPool;

use crate::SCHEMA_VERSION;
use crate::codec::backend;

/// One schema version: the statements that take the previous version to it.
struct Migration {
    version: i64,
    description: &'static str,
    statements: &'static [&'static str],
}

/// Every migration, oldest first; the last one's version is [`SCHEMA_VERSION`].
///
/// JSON columns are `jsonb`, except the messages of a run (and a paused run,
/// which holds messages): those are an opaque versioned document kept as
/// written, which is cheaper to store and load and keeps any text, `\u0000`
/// included.
const MIGRATIONS: &[Migration] = &[Migration {
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
}];

const CREATE_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS agent_schema_version (
    version     BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  BIGINT NOT NULL
)";

/// Serializes migrators across processes (an arbitrary, fixed key).
const MIGRATION_LOCK: i64 = 0x6167_656e_745f_6d65;

/// The schema version of the database: 0 when it has none yet.
pub(super) async fn version(pool: &PgPool) -> Result<i64, StoreError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('agent_schema_version') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(backend)?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::BIGINT FROM agent_schema_version")
        .fetch_one(pool)
        .await
        .map_err(backend)
}

/// Refuses a database written by a newer build.
pub(super) fn check(found: i64) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    Ok(())
}

/// Creates the schema (when one is configured) and applies the missing
/// migrations in one transaction, under an advisory lock so concurrent
/// processes migrate once; returns how many were applied.
pub(super) async fn migrate(pool: &PgPool, schema: Option<&str>) -> Result<usize, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await.map_err(backend)?;
    if let Some(schema) = schema {
        // `schema` was checked to be a plain identifier when the options were made.
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
        sqlx::query(sqlx::AssertSqlSafe(create)).execute(&mut *tx).await.map_err(backend)?;
    }
    sqlx::query(CREATE_VERSION_TABLE).execute(&mut *tx).await.map_err(backend)?;
    let found: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::BIGINT FROM agent_schema_version")
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
    check(found)?;
    let mut applied = 0;
    for migration in MIGRATIONS.iter().filter(|migration| migration.version > found) {
        for statement in migration.statements {
            sqlx::query(*statement).execute(&mut *tx).await.map_err(backend)?;
        }
        sqlx::query("INSERT INTO agent_schema_version (version, description, applied_at) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.description)
            .bind(agent_core::support::unix_now())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        applied += 1;
    }
    tx.commit().await.map_err(backend)?;
    if applied > 0 {
        tracing::info!(applied, version = SCHEMA_VERSION, "migrated the Postgres schema");
    }
    Ok(applied)
}
