//! The schema migration runner shared by the backends: ordered, versioned
//! steps applied in one write transaction, and a refusal of newer schemas.

use agent_core::StoreError;
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use crate::SCHEMA_VERSION;
use crate::codec::backend;

/// One schema version: the statements that take the previous version to it.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) statements: &'static [&'static str],
}

/// A backend's schema: its migrations, oldest first (the last one's version
/// is [`SCHEMA_VERSION`]), and how it keeps the version.
pub(crate) struct Schema {
    pub(crate) migrations: &'static [Migration],
    pub(crate) create_version_table: &'static str,
    /// Counts the `agent_schema_version` tables visible (0 or 1).
    pub(crate) version_table_exists: &'static str,
    /// Names the backend in logs.
    pub(crate) backend: &'static str,
}

const CURRENT_VERSION: &str = "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM agent_schema_version";

const RECORD_VERSION: &str = "INSERT INTO agent_schema_version (version, description, applied_at) VALUES ($1, $2, $3)";

/// The schema version of the database: 0 when it has none yet.
pub(crate) async fn version<DB: Database>(pool: &Pool<DB>, schema: &Schema) -> Result<i64, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let exists: i64 = sqlx::query_scalar(schema.version_table_exists).fetch_one(pool).await.map_err(backend)?;
    if exists == 0 {
        return Ok(0);
    }
    sqlx::query_scalar(CURRENT_VERSION).fetch_one(pool).await.map_err(backend)
}

/// Refuses a database written by a newer build.
pub(crate) fn check(found: i64) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    Ok(())
}

/// Applies the missing migrations in one transaction opened with `begin`,
/// after the `prelude` statements (a lock, a schema to create); returns how
/// many were applied. Concurrent migrators wait for each other.
pub(crate) async fn migrate<DB: Database>(
    pool: &Pool<DB>,
    schema: &Schema,
    begin: &'static str,
    prelude: &[String],
) -> Result<usize, StoreError>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'r> i64: Encode<'r, DB> + Decode<'r, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let mut tx = pool.begin_with(begin).await.map_err(backend)?;
    for statement in prelude {
        sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *tx).await.map_err(backend)?;
    }
    sqlx::query(schema.create_version_table).execute(&mut *tx).await.map_err(backend)?;
    let found: i64 = sqlx::query_scalar(CURRENT_VERSION).fetch_one(&mut *tx).await.map_err(backend)?;
    check(found)?;
    let mut applied = 0;
    for migration in schema.migrations.iter().filter(|migration| migration.version > found) {
        for statement in migration.statements {
            sqlx::query(*statement).execute(&mut *tx).await.map_err(backend)?;
        }
        sqlx::query(RECORD_VERSION)
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
        tracing::info!(applied, version = SCHEMA_VERSION, backend = schema.backend, "migrated the store schema");
    }
    Ok(applied)
}
