//! The SQLite schema, its versioned migrations and the migration runner.

use agent_core::StoreError;
use sqlx::SqlitePool;

use crate::SCHEMA_VERSION;
use crate::codec::backend;

/// One schema version: the statements that take the previous version to it.
struct Migration {
    version: i64,
    description: &'static str,
    statements: &'static [&'static str],
}

/// Every migration, oldest first; the last one's version is [`SCHEMA_VERSION`].
const MIGRATIONS: &[Migration] = &[Migration {
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
}];

const CREATE_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS agent_schema_version (
    version     INTEGER PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
)";

/// The schema version of the database: 0 when it has none yet.
pub(super) async fn version(pool: &SqlitePool) -> Result<i64, StoreError> {
    let exists: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'agent_schema_version'")
            .fetch_one(pool)
            .await
            .map_err(backend)?;
    if exists == 0 {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM agent_schema_version")
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

/// Applies the missing migrations in one write transaction (concurrent
/// migrators wait for each other); returns how many were applied.
pub(super) async fn migrate(pool: &SqlitePool) -> Result<usize, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    sqlx::query(CREATE_VERSION_TABLE).execute(&mut *tx).await.map_err(backend)?;
    let found: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM agent_schema_version")
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
    check(found)?;
    let mut applied = 0;
    for migration in MIGRATIONS.iter().filter(|migration| migration.version > found) {
        for statement in migration.statements {
            sqlx::query(*statement).execute(&mut *tx).await.map_err(backend)?;
        }
        sqlx::query("INSERT INTO agent_schema_version (version, description, applied_at) VALUES (?, ?, ?)")
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
        tracing::info!(applied, version = SCHEMA_VERSION, "migrated the SQLite schema");
    }
    Ok(applied)
}
