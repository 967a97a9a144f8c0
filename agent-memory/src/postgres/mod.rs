//! `PostgresStore`: sessions, runs and memories in a shared Postgres
//! database, over TLS when the URL asks for it.

mod cancel;
mod schema;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use agent_core::StoreError;
use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

pub use cancel::RECHECK as POSTGRES_CANCEL_RECHECK;

use crate::codec::{backend, check_identifier};
use crate::sql::{SqlStore, migrate};

/// How to connect a [`PostgresStore`].
///
/// Needs the `postgres` feature.
///
/// # TLS
///
/// Connections use TLS (rustls) as the URL's `sslmode` says, as with
/// `libpq`: `disable`; `prefer` (the default: TLS when the server offers it,
/// certificate not checked); `require` (TLS or no connection, certificate
/// not checked); `verify-ca` (the certificate must chain to a trusted root);
/// `verify-full` (and name the host). Trusted roots are the Mozilla roots
/// (`webpki-roots`) plus the PEM file of `sslrootcert` (or
/// [`ssl_root_cert`](Self::ssl_root_cert)): managed databases whose
/// certificates come from their own CA (RDS, Cloud SQL, ...) need it for the
/// `verify-*` modes. `sslcert` / `sslkey` give a client certificate.
///
/// # Example
///
/// ```no_run
/// use agent_memory::{PostgresOptions, PostgresStore};
///
/// # async fn connect() -> Result<(), agent_core::StoreError> {
/// let url = "postgres://agent:secret@db.example.com/agents?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem";
/// let options = PostgresOptions::new(url)?.schema("agents")?.max_connections(20);
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
    /// Options for the database at `url` (`postgres://user:password@host/database`,
    /// with parameters such as `?sslmode=verify-full&sslrootcert=ca.pem`).
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the URL cannot be parsed (an unknown
    /// `sslmode` included).
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

    /// Sets the TLS mode, overriding the URL's `sslmode` (see [TLS](Self#tls)).
    #[must_use]
    pub fn ssl_mode(mut self, mode: PgSslMode) -> Self {
        self.connect = self.connect.ssl_mode(mode);
        self
    }

    /// Trusts the CA certificates of this PEM file too, overriding the URL's
    /// `sslrootcert` (read when connecting).
    #[must_use]
    pub fn ssl_root_cert(mut self, path: impl AsRef<Path>) -> Self {
        self.connect = self.connect.ssl_root_cert(path.as_ref());
        self
    }

    /// The connection options these options were built into.
    pub fn connect_options(&self) -> &PgConnectOptions {
        &self.connect
    }
}

/// Sessions, runs and user memories in Postgres, for deployments where many
/// server processes share one database.
///
/// Needs the `postgres` feature.
///
/// Queries go through a connection pool; each `save_run` is one transaction,
/// and migrations take an advisory lock so processes starting together
/// migrate once. Session leases expire by the database's clock;
/// `wait_cancel` is woken through `LISTEN`/`NOTIFY` (one listening
/// connection per store while anyone waits) and checks at least every
/// [`POSTGRES_CANCEL_RECHECK`]. Text with NUL characters is refused
/// ([`check_storable`](agent_core::SessionStore::check_storable)): Postgres
/// cannot store it. Cloning shares the pool.
pub type PostgresStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
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
        let cancel = Arc::new(cancel::CancelHub::new(pool.clone()));
        let store = Self { pool, schema: options.schema, cancel, keep_alive: None };
        if options.migrate {
            store.migrate().await?;
        } else {
            migrate::check(migrate::version(&store.pool, &schema::SCHEMA).await?)?;
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
        let mut prelude = vec![schema::MIGRATION_LOCK.to_owned()];
        if let Some(schema) = &self.schema {
            // `schema` was checked to be a plain identifier when the options were made.
            prelude.push(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""));
        }
        migrate::migrate(&self.pool, &schema::SCHEMA, "BEGIN", &prelude).await
    }

    /// The schema version of the database (0 before the first migration).
    ///
    /// # Errors
    ///
    /// A backend error.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::version(&self.pool, &schema::SCHEMA).await
    }
}
