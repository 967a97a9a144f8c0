//! `PostgresKnowledge`: content and chunks in Postgres, full-text search
//! (`tsvector`, `ts_rank_cd`) and exact vector search in the database
//! (pgvector when the extension can be created, a `real[]` column otherwise).

mod index;
mod store;

use std::str::FromStr;
use std::sync::Arc;

use agent_core::StoreError;
use agent_core::knowledge::{KnowledgeError, SearchHit};
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, PgPool, Row};
use tokio::sync::RwLock;

use super::content::{Content, ContentStatus};
use super::store::KNOWLEDGE_SCHEMA_VERSION;
use super::store::{backend, corrupt, filter_options};
use super::vector_index::IndexKind;

/// A knowledge store in Postgres, for deployments where several processes
/// share one database.
///
/// Needs the `postgres` feature.
///
/// Tables are named `{prefix}_content` and `{prefix}_chunks` (prefix
/// `agent_knowledge` by default). Lexical search uses a generated English
/// `tsvector` column with a GIN index, ranked by `ts_rank_cd`. Embeddings are
/// stored normalized and searched exactly in the database: with pgvector's
/// `<=>` when `CREATE EXTENSION vector` succeeds when the tables are created,
/// with a dot product over a `real[]` column otherwise. For large collections
/// without pgvector, [`index_kind`](Self::index_kind) keeps an in-memory
/// index (exact or IVF) instead, reloaded when another process writes (every
/// write bumps a generation counter).
#[derive(Clone)]
pub struct PostgresKnowledge {
    pool: PgPool,
    tables: Arc<Tables>,
    pgvector: bool,
    index_kind: Option<IndexKind>,
    index: Arc<RwLock<Option<index::Loaded>>>,
}

struct Tables {
    content: String,
    chunks: String,
    generation: String,
}

const CONTENT_COLUMNS: &str = "id, name, description, metadata::text AS metadata, content_type, size, access_count, \
status, status_message, source, reader, content_hash, created_at, updated_at";

impl PostgresKnowledge {
    /// Connects to a database URL (`postgres://user:pass@host/db`) with the default prefix.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a bad URL, or a backend error.
    pub async fn connect(url: &str) -> Result<Self, KnowledgeError> {
        let options =
            PgConnectOptions::from_str(url).map_err(|err| StoreError::Invalid(format!("bad Postgres URL: {err}")))?;
        let pool = PgPoolOptions::new().max_connections(10).connect_with(options).await.map_err(backend)?;
        Self::with_pool(pool, "agent_knowledge").await
    }

    /// A store on an existing pool with a table prefix (letters, digits and
    /// `_`), creating its tables if missing. Items left `processing` by a
    /// stopped process (no heartbeat for 90 s) are marked failed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a bad prefix, [`StoreError::SchemaTooNew`]
    /// when the tables were made by a newer build, or a backend error.
    pub async fn with_pool(pool: PgPool, prefix: &str) -> Result<Self, KnowledgeError> {
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Invalid(format!("table prefix `{prefix}` must be letters, digits and `_`")).into());
        }
        let tables = Arc::new(Tables {
            content: format!("{prefix}_content"),
            chunks: format!("{prefix}_chunks"),
            generation: format!("{prefix}_generation"),
        });
        let mut store = Self { pool, tables, pgvector: false, index_kind: None, index: Arc::new(RwLock::new(None)) };
        store.migrate(prefix).await?;
        crate::knowledge::ingest::recover_interrupted(&store).await?;
        Ok(store)
    }

    /// Searches vectors in an in-memory index of this kind instead of in the
    /// database (call before the first search).
    #[must_use]
    pub fn index_kind(mut self, kind: IndexKind) -> Self {
        self.index_kind = Some(kind);
        self.index = Arc::new(RwLock::new(None));
        self
    }

    /// Whether embeddings are stored in a pgvector `vector` column.
    pub fn uses_pgvector(&self) -> bool {
        self.pgvector
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn migrate(&mut self, prefix: &str) -> Result<(), KnowledgeError> {
        let Tables { content, chunks, generation } = &*self.tables;
        // Outside the transaction: a failure here (no extension, no privilege) must not abort it.
        let _ = sqlx::query("CREATE EXTENSION IF NOT EXISTS vector").execute(&self.pool).await;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('agent_knowledge_schema'))")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS knowledge_schema_version (
                table_prefix TEXT NOT NULL, version BIGINT NOT NULL, applied_at BIGINT NOT NULL,
                PRIMARY KEY (table_prefix, version))",
        )
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let found: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM knowledge_schema_version WHERE table_prefix = $1",
        )
        .bind(prefix)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        if found > KNOWLEDGE_SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found, supported: KNOWLEDGE_SCHEMA_VERSION }.into());
        }
        if found == 0 {
            let has_vector: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?;
            let embedding_type = if has_vector { "vector" } else { "real[]" };
            let statements = [
                format!(
                    "CREATE TABLE {content} (
                        id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL, metadata JSONB NOT NULL,
                        content_type TEXT NOT NULL, size BIGINT NOT NULL, access_count BIGINT NOT NULL,
                        status TEXT NOT NULL, status_message TEXT NOT NULL, source TEXT NOT NULL,
                        reader TEXT NOT NULL, content_hash TEXT NOT NULL UNIQUE,
                        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)"
                ),
                format!("CREATE INDEX {content}_created ON {content} (created_at)"),
                format!(
                    "CREATE TABLE {chunks} (
                        id TEXT PRIMARY KEY,
                        content_id TEXT NOT NULL REFERENCES {content} (id) ON DELETE CASCADE,
                        chunk_index BIGINT NOT NULL, text TEXT NOT NULL, chunk_meta JSONB NOT NULL, meta JSONB NOT NULL,
                        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
                        embedding {embedding_type})"
                ),
                format!("CREATE INDEX {chunks}_content ON {chunks} (content_id, chunk_index)"),
                format!("CREATE INDEX {chunks}_tsv ON {chunks} USING GIN (tsv)"),
                format!("CREATE INDEX {chunks}_meta ON {chunks} USING GIN (meta jsonb_path_ops)"),
                format!("CREATE TABLE {generation} (id INT PRIMARY KEY, generation BIGINT NOT NULL)"),
                format!("INSERT INTO {generation} (id, generation) VALUES (1, 0)"),
            ];
            for statement in statements {
                sqlx::query(AssertSqlSafe(statement)).execute(&mut *tx).await.map_err(backend)?;
            }
            sqlx::query("INSERT INTO knowledge_schema_version (table_prefix, version, applied_at) VALUES ($1, $2, $3)")
                .bind(prefix)
                .bind(KNOWLEDGE_SCHEMA_VERSION)
                .bind(agent_core::support::unix_now())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        let udt: Option<String> = sqlx::query_scalar(
            "SELECT udt_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'embedding'",
        )
        .bind(chunks)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        self.pgvector = udt.as_deref() == Some("vector");
        tx.commit().await.map_err(backend)
    }

    /// `SELECT` of the hit columns (plus `extra_columns`) from chunks joined with their content.
    fn hit_select(&self, extra_columns: &str) -> String {
        let Tables { content, chunks, .. } = &*self.tables;
        format!(
            "SELECT ch.id, ch.content_id, c.name, c.source, ch.text, ch.meta::text AS meta, ch.chunk_index{extra_columns} \
             FROM {chunks} ch JOIN {content} c ON c.id = ch.content_id"
        )
    }
}

fn parse_map(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `AND (ch.meta @> $n::jsonb OR ...)` per filter, numbering parameters from
/// `first`; returns the clause and the JSON documents to bind, in order.
fn filter_sql(filters: &Map<String, Value>, first: usize) -> Result<(String, Vec<String>), KnowledgeError> {
    let mut sql = String::new();
    let mut binds = Vec::new();
    for (key, value) in filters {
        let options = filter_options(key, value)?;
        let alternatives: Vec<String> = options
            .into_iter()
            .map(|option| {
                binds.push(Value::Object(Map::from_iter([(key.clone(), option)])).to_string());
                format!("ch.meta @> ${}::jsonb", first + binds.len() - 1)
            })
            .collect();
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    Ok((sql, binds))
}

fn hit_from_row(row: &PgRow, score: f32) -> Result<SearchHit, KnowledgeError> {
    let id: String = row.try_get("id").map_err(backend)?;
    let metadata = parse_map(&row.try_get::<String, _>("meta").map_err(backend)?)
        .ok_or_else(|| corrupt("chunk", &id, "metadata is not a JSON object"))?;
    let name: String = row.try_get("name").map_err(backend)?;
    let source: String = row.try_get("source").map_err(backend)?;
    Ok(SearchHit {
        content_id: row.try_get("content_id").map_err(backend)?,
        source: if source.is_empty() { name.clone() } else { source },
        name,
        text: row.try_get("text").map_err(backend)?,
        metadata,
        score,
        reranking_score: None,
        chunk: row.try_get::<i64, _>("chunk_index").map_err(backend)?.max(0) as usize,
        id,
    })
}

fn content_from_row(row: &PgRow) -> Result<Content, KnowledgeError> {
    let id: String = row.try_get("id").map_err(backend)?;
    let metadata = parse_map(&row.try_get::<String, _>("metadata").map_err(backend)?)
        .ok_or_else(|| corrupt("content", &id, "metadata is not a JSON object"))?;
    let status_name: String = row.try_get("status").map_err(backend)?;
    let status = ContentStatus::parse(&status_name)
        .ok_or_else(|| corrupt("content", &id, format!("unknown status `{status_name}`")))?;
    Ok(Content {
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        metadata,
        content_type: row.try_get("content_type").map_err(backend)?,
        size: row.try_get::<i64, _>("size").map_err(backend)?.max(0) as u64,
        access_count: row.try_get::<i64, _>("access_count").map_err(backend)?.max(0) as u64,
        status,
        status_message: row.try_get("status_message").map_err(backend)?,
        source: row.try_get("source").map_err(backend)?,
        reader: row.try_get("reader").map_err(backend)?,
        content_hash: row.try_get("content_hash").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        updated_at: row.try_get("updated_at").map_err(backend)?,
        id,
    })
}

/// A vector scaled to length 1 (zero vectors stay zero).
fn normalized(vector: &[f32]) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 { vector.iter().map(|x| x / norm).collect() } else { vector.to_vec() }
}

/// pgvector's text form, `[0.1,0.2]`.
fn vector_literal(vector: &[f32]) -> String {
    let parts: Vec<String> = vector.iter().map(f32::to_string).collect();
    format!("[{}]", parts.join(","))
}
