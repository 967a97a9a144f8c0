//! `PostgresStore`: sessions, runs and memories in a shared Postgres database.

mod memories;
mod schema;
mod sessions;

use std::str::FromStr;
use std::time::Duration;

use agent_core::StoreError;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::codec::{backend, check_identifier};

/// How to connect a [`PostgresStore`].
///
/// # Example
///
/// ```no_run
/// use agent_memory::{PostgresOptions, PostgresStore};
///
/// # async fn connect() -> Result<(), agent_core::StoreError> {
/// let options = PostgresOptions::new("postgres://agent:agent@127.0.0.1/agents")?.schema("agents")?.max_connections(20);
/// let store = PostgresStore::connect_with(options).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    connect: PgConnectOptions,
    schema: Option<String>,
    max_connections: u32,
    acquire_timeout: Duration,
    migrate: bool,
}

impl PostgresOptions {
    /// Options for the database at `url` (`postgres://user:password@host/database`).
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the URL cannot be parsed.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let connect =
            PgConnectOptions::from_str(url).map_err(|err| StoreError::Invalid(format!("bad Postgres URL: {err}")))?;
        Ok(Self { connect, schema: None, max_connections: 10, acquire_timeout: Duration::from_secs(30), migrate: true })
    }

    /// Keeps the tables in this schema (created by the migration) instead of
    /// the connection's default search path.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] unless the name is 1 to 63 ASCII letters,
    /// digits or underscores, not starting with a digit.
    pub fn schema(mut self, schema: &str) -> Result<Self, StoreError> {
        let schema = check_identifier(schema)?;
        self.connect = self.connect.options([("search_path", format!("\"{schema}\""))]);
        self.schema = Some(schema.to_owned());
        Ok(self)
    }

    /// The most connections the pool opens (default 10).
    #[must_use]
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long a query waits for a free connection (default 30 s).
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Whether connecting migrates the schema (default true). Without it,
    /// connecting still refuses a schema newer than this build knows.
    #[must_use]
    pub fn migrate(mut self, yes: bool) -> Self {
        self.migrate = yes;
        self
    }
}

/// Sessions, runs and user memories in Postgres, for deployments where many
/// server processes share one database.
///
/// Queries go through a connection pool; each `save_run` is one transaction,
/// and migrations take an advisory lock so processes starting together
/// migrate once. Cloning shares the pool.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    schema: Option<String>,
}

impl PostgresStore {
    /// Connects to the database at `url` and migrates it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a bad URL; [`StoreError::SchemaTooNew`]
    /// when a newer build migrated the database; a backend error when it
    /// cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PostgresOptions::new(url)?).await
    }

    /// Connects with the given options.
    ///
    /// # Errors
    ///
    /// As for [`PostgresStore::connect`].
    pub async fn connect_with(options: PostgresOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(options.connect)
            .await
            .map_err(backend)?;
        let store = Self { pool, schema: options.schema };
        if options.migrate {
            store.migrate().await?;
        } else {
            schema::check(schema::version(&store.pool).await?)?;
        }
        Ok(store)
    }

    /// Applies the schema migrations this database lacks; returns how many.
    ///
    /// # Errors
    ///
    /// [`StoreError::SchemaTooNew`] when a newer build migrated the
    /// database; a backend error (nothing is applied then).
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        schema::migrate(&self.pool, self.schema.as_deref()).await
    }

    /// The schema version of the database (0 before the first migration).
    ///
    /// # Errors
    ///
    /// A backend error.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        schema::version(&self.pool).await
    }

    /// The connection pool, for queries of your own (the tables are
    /// `agent_sessions`, `agent_runs`, `agent_memories`).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
