//! `SqliteKnowledge`: content and chunks in SQLite, FTS5 (BM25) for lexical
//! search, embeddings as BLOBs searched through an in-memory vector index.

mod store;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agent_core::StoreError;
use agent_core::knowledge::{KnowledgeError, SearchHit};
use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{AssertSqlSafe, Row, SqlitePool};
use tokio::sync::RwLock;

use super::content::{Content, ContentStatus};
use super::store::{KNOWLEDGE_SCHEMA_VERSION, backend, corrupt, filter_options, vector_from_bytes};
use super::vector_index::{IndexEntry, IndexKind, VectorIndex};

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, SqliteArguments>;

/// A knowledge store in an embedded SQLite database.
///
/// Needs the `sqlite` feature (the default).
///
/// Tables are named `{prefix}_content`, `{prefix}_chunks` and `{prefix}_fts`
/// (prefix `agent_knowledge` by default), so several knowledge bases can
/// share one database file, and the session store's file too. Lexical search
/// is FTS5 with BM25 ranking (Porter stemming). Vector search is exact by
/// default, over an in-memory copy of the embeddings loaded on the first
/// vector search and kept current by this store's writes; pass
/// [`IndexKind::Ivf`] for approximate search of large collections.
#[derive(Clone)]
pub struct SqliteKnowledge {
    pool: SqlitePool,
    tables: Arc<Tables>,
    index_kind: IndexKind,
    index: Arc<RwLock<Option<Box<dyn VectorIndex>>>>,
}

struct Tables {
    content: String,
    chunks: String,
    fts: String,
}

const CONTENT_COLUMNS: &str = "id, name, description, metadata, content_type, size, access_count, status, \
status_message, source, reader, content_hash, created_at, updated_at";

impl SqliteKnowledge {
    /// An in-memory database (one connection), gone when the store is dropped.
    ///
    /// # Errors
    ///
    /// A backend error.
    pub async fn open_in_memory() -> Result<Self, KnowledgeError> {
        let options = SqliteConnectOptions::new().in_memory(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.map_err(backend)?;
        Self::with_pool(pool, "agent_knowledge", IndexKind::Exact).await
    }

    /// A database file, created if missing, in WAL mode.
    ///
    /// # Errors
    ///
    /// A backend error.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, KnowledgeError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(backend)?;
        Self::with_pool(pool, "agent_knowledge", IndexKind::Exact).await
    }

    /// A store on an existing pool with a table prefix (letters, digits and
    /// `_`), creating its tables if missing. Items a stopped process left
    /// `processing` are marked failed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a bad prefix, [`StoreError::SchemaTooNew`]
    /// when the tables were made by a newer build, or a backend error.
    pub async fn with_pool(pool: SqlitePool, prefix: &str, index_kind: IndexKind) -> Result<Self, KnowledgeError> {
        let tables = Arc::new(Tables::new(prefix)?);
        let store = Self { pool, tables, index_kind, index: Arc::new(RwLock::new(None)) };
        store.migrate(prefix).await?;
        crate::knowledge::ingest::recover_interrupted(&store).await?;
        Ok(store)
    }

    /// Uses another in-memory vector index (call before the first search).
    #[must_use]
    pub fn index_kind(mut self, kind: IndexKind) -> Self {
        self.index_kind = kind;
        self.index = Arc::new(RwLock::new(None));
        self
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn migrate(&self, prefix: &str) -> Result<(), KnowledgeError> {
        let Tables { content, chunks, fts } = &*self.tables;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS knowledge_schema_version (
                table_prefix TEXT NOT NULL, version INTEGER NOT NULL, applied_at INTEGER NOT NULL,
                PRIMARY KEY (table_prefix, version))",
        )
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let found: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM knowledge_schema_version WHERE table_prefix = ?")
                .bind(prefix)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        if found > KNOWLEDGE_SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found, supported: KNOWLEDGE_SCHEMA_VERSION }.into());
        }
        if found == 0 {
            let statements = [
                format!(
                    "CREATE TABLE {content} (
                        id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL,
                        metadata TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
                        access_count INTEGER NOT NULL, status TEXT NOT NULL, status_message TEXT NOT NULL,
                        source TEXT NOT NULL, reader TEXT NOT NULL, content_hash TEXT NOT NULL,
                        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)"
                ),
                format!("CREATE UNIQUE INDEX {content}_hash ON {content} (content_hash)"),
                format!("CREATE INDEX {content}_created ON {content} (created_at)"),
                format!(
                    "CREATE TABLE {chunks} (
                        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
                        content_id TEXT NOT NULL REFERENCES {content} (id) ON DELETE CASCADE,
                        chunk_index INTEGER NOT NULL, text TEXT NOT NULL, chunk_meta TEXT NOT NULL,
                        meta TEXT NOT NULL, embedding BLOB)"
                ),
                format!("CREATE INDEX {chunks}_content ON {chunks} (content_id, chunk_index)"),
                format!(
                    "CREATE VIRTUAL TABLE {fts} USING fts5(text, content='{chunks}', content_rowid='seq', \
                     tokenize='porter unicode61')"
                ),
                format!(
                    "CREATE TRIGGER {chunks}_ai AFTER INSERT ON {chunks} BEGIN \
                     INSERT INTO {fts} (rowid, text) VALUES (new.seq, new.text); END"
                ),
                format!(
                    "CREATE TRIGGER {chunks}_ad AFTER DELETE ON {chunks} BEGIN \
                     INSERT INTO {fts} ({fts}, rowid, text) VALUES ('delete', old.seq, old.text); END"
                ),
            ];
            for statement in statements {
                sqlx::query(AssertSqlSafe(statement)).execute(&mut *tx).await.map_err(backend)?;
            }
            sqlx::query("INSERT INTO knowledge_schema_version (table_prefix, version, applied_at) VALUES (?, ?, ?)")
                .bind(prefix)
                .bind(KNOWLEDGE_SCHEMA_VERSION)
                .bind(agent_core::support::unix_now())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn index_entries(&self, content_id: Option<&str>) -> Result<Vec<IndexEntry>, KnowledgeError> {
        let sql = format!(
            "SELECT id, content_id, meta, embedding FROM {} WHERE embedding IS NOT NULL AND (? IS NULL OR content_id = ?)",
            self.tables.chunks
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(content_id)
            .bind(content_id)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let chunk_id: String = row.try_get("id").map_err(backend)?;
            let metadata = parse_map(&row.try_get::<String, _>("meta").map_err(backend)?)
                .ok_or_else(|| corrupt("chunk", &chunk_id, "metadata is not a JSON object"))?;
            let vector = vector_from_bytes(&row.try_get::<Vec<u8>, _>("embedding").map_err(backend)?)
                .ok_or_else(|| corrupt("chunk", &chunk_id, "embedding is not a list of f32"))?;
            entries.push(IndexEntry {
                chunk_id,
                content_id: row.try_get("content_id").map_err(backend)?,
                metadata,
                vector,
            });
        }
        Ok(entries)
    }

    /// Brings the in-memory index up to date for one content item, if it is loaded.
    async fn refresh_index(&self, content_id: &str) -> Result<(), KnowledgeError> {
        let mut index = self.index.write().await;
        if let Some(index) = index.as_mut() {
            let entries = self.index_entries(Some(content_id)).await?;
            index.remove_content(content_id);
            index.insert(entries);
        }
        Ok(())
    }

    async fn hits(&self, ids_and_scores: &[(String, f32)]) -> Result<Vec<SearchHit>, KnowledgeError> {
        if ids_and_scores.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; ids_and_scores.len()].join(", ");
        let sql = format!("{} WHERE ch.id IN ({placeholders})", self.hit_select("", ""));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, _) in ids_and_scores {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        let mut by_id: std::collections::HashMap<String, SqliteRow> =
            rows.into_iter().filter_map(|row| Some((row.try_get("id").ok()?, row))).collect();
        ids_and_scores.iter().filter_map(|(id, score)| by_id.remove(id).map(|row| hit_from_row(&row, *score))).collect()
    }

    /// `SELECT` of the hit columns (plus `extra_columns`) from chunks joined
    /// with their content (after `extra_from`).
    fn hit_select(&self, extra_columns: &str, extra_from: &str) -> String {
        let Tables { content, chunks, .. } = &*self.tables;
        format!(
            "SELECT ch.id, ch.content_id, c.name, c.source, ch.text, ch.meta, ch.chunk_index{extra_columns} \
             FROM {extra_from}{chunks} ch JOIN {content} c ON c.id = ch.content_id"
        )
    }
}

impl Tables {
    fn new(prefix: &str) -> Result<Self, StoreError> {
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Invalid(format!("table prefix `{prefix}` must be letters, digits and `_`")));
        }
        Ok(Self {
            content: format!("{prefix}_content"),
            chunks: format!("{prefix}_chunks"),
            fts: format!("{prefix}_fts"),
        })
    }
}

fn parse_map(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn hit_from_row(row: &SqliteRow, score: f32) -> Result<SearchHit, KnowledgeError> {
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

fn content_from_row(row: &SqliteRow) -> Result<Content, KnowledgeError> {
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

fn bind_content<'q>(query: Query<'q>, content: &Content) -> Query<'q> {
    query
        .bind(content.name.clone())
        .bind(content.description.clone())
        .bind(Value::Object(content.metadata.clone()).to_string())
        .bind(content.content_type.clone())
        .bind(content.size as i64)
        .bind(content.access_count as i64)
        .bind(content.status.as_str())
        .bind(content.status_message.clone())
        .bind(content.source.clone())
        .bind(content.reader.clone())
        .bind(content.content_hash.clone())
        .bind(content.created_at)
        .bind(content.updated_at)
        .bind(content.id.clone())
}

/// `AND json_extract(ch.meta, ?) IN (?, ...)` per filter, and a function binding them.
/// JSON paths and their allowed values, in bind order.
type FilterBinds = Vec<(String, Vec<Value>)>;

fn filter_sql(filters: &Map<String, Value>) -> Result<(String, FilterBinds), KnowledgeError> {
    let mut sql = String::new();
    let mut binds = Vec::new();
    for (key, value) in filters {
        let options = filter_options(key, value)?;
        sql.push_str(&format!(" AND json_extract(ch.meta, ?) IN ({})", vec!["?"; options.len()].join(", ")));
        binds.push((format!("$.\"{key}\""), options));
    }
    Ok((sql, binds))
}

fn bind_filters<'q>(mut query: Query<'q>, binds: FilterBinds) -> Query<'q> {
    for (path, options) in binds {
        query = query.bind(path);
        for option in options {
            query = match option {
                Value::String(text) => query.bind(text),
                Value::Bool(flag) => query.bind(i64::from(flag)),
                Value::Number(number) => match number.as_i64() {
                    Some(int) => query.bind(int),
                    None => query.bind(number.as_f64().unwrap_or_default()),
                },
                _ => query,
            };
        }
    }
    query
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
