//! `KnowledgeStore` for `PostgresKnowledge`: content rows, atomic chunk
//! commits, full-text and vector search.

use agent_core::knowledge::{KnowledgeError, SearchHit};
use agent_core::{Page, SortOrder, StoreError};
use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::postgres::PgArguments;
use sqlx::{AssertSqlSafe, Postgres, Row};

use super::index::Change;
use super::{
    CONTENT_COLUMNS, PostgresKnowledge, content_from_row, filter_sql, hit_from_row, normalized, parse_map,
    vector_literal,
};
use crate::knowledge::content::{Content, ContentQuery};
use crate::knowledge::store::{KnowledgeStore, StoredChunk, backend, merge_metadata, query_terms};
use crate::knowledge::vector_index::IndexEntry;

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Chunks per multi-row `INSERT`.
const INSERT_BATCH: usize = 500;

const SET_CONTENT: &str = "name = $1, description = $2, metadata = $3::jsonb, content_type = $4, size = $5, \
access_count = $6, status = $7, status_message = $8, source = $9, reader = $10, content_hash = $11, \
created_at = $12, updated_at = $13";

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

fn map_unique(err: sqlx::Error) -> KnowledgeError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Invalid("identical content already exists in this knowledge base".into()).into()
        }
        _ => backend(err),
    }
}

#[async_trait]
impl KnowledgeStore for PostgresKnowledge {
    async fn insert_content(&self, content: &Content) -> Result<Option<Content>, KnowledgeError> {
        let table = &self.tables.content;
        let sql = format!(
            "INSERT INTO {table} (name, description, metadata, content_type, size, access_count, status, \
             status_message, source, reader, content_hash, created_at, updated_at, id) \
             VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (content_hash) DO NOTHING"
        );
        let done = bind_content(sqlx::query(AssertSqlSafe(sql)), content).execute(&self.pool).await.map_err(backend)?;
        if done.rows_affected() > 0 {
            return Ok(None);
        }
        let sql = format!("SELECT {CONTENT_COLUMNS} FROM {table} WHERE content_hash = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&content.content_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(content_from_row).transpose()
    }

    async fn content(&self, id: &str) -> Result<Option<Content>, KnowledgeError> {
        let sql = format!("SELECT {CONTENT_COLUMNS} FROM {} WHERE id = $1", self.tables.content);
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(content_from_row).transpose()
    }

    async fn list_content(&self, query: &ContentQuery) -> Result<Page<Content>, KnowledgeError> {
        let table = &self.tables.content;
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        let page = query.page.unwrap_or(1).max(1);
        let limit = query.limit.map(i64::from);
        let offset = query.limit.map_or(0, |limit| i64::from(limit) * i64::from(page - 1));
        let direction = if query.sort_order == SortOrder::Asc { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {CONTENT_COLUMNS} FROM {table} ORDER BY {} {direction}, id {direction} LIMIT $1 OFFSET $2",
            query.sort_by.column()
        );
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(limit).bind(offset).fetch_all(&self.pool).await.map_err(backend)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            match content_from_row(row) {
                Ok(content) => items.push(content),
                Err(err) => tracing::warn!(%err, "skipping a corrupt knowledge content row"),
            }
        }
        Ok(Page { items, total: total.max(0) as u64, page, limit: query.limit })
    }

    async fn update_content(&self, content: &Content) -> Result<bool, KnowledgeError> {
        let (table, chunks) = (&self.tables.content, &self.tables.chunks);
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let old: Option<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT metadata::text FROM {table} WHERE id = $1 FOR UPDATE")))
                .bind(&content.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let Some(old) = old else { return Ok(false) };
        let sql = format!("UPDATE {table} SET {SET_CONTENT} WHERE id = $14");
        bind_content(sqlx::query(AssertSqlSafe(sql)), content).execute(&mut *tx).await.map_err(map_unique)?;
        let metadata_changed = parse_map(&old).as_ref() != Some(&content.metadata);
        let mut generation = None;
        if metadata_changed {
            // Content metadata first, each chunk's own metadata over it.
            let sql = format!("UPDATE {chunks} SET meta = $1::jsonb || chunk_meta WHERE content_id = $2");
            sqlx::query(AssertSqlSafe(sql))
                .bind(Value::Object(content.metadata.clone()).to_string())
                .bind(&content.id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            generation = Some(self.bump(&mut tx).await?);
        }
        tx.commit().await.map_err(backend)?;
        if let Some(generation) = generation {
            self.apply(generation, Change::Reload(&content.id)).await?;
        }
        Ok(true)
    }

    async fn commit_chunks(&self, content: &Content, chunks: &[StoredChunk]) -> Result<bool, KnowledgeError> {
        let (table, chunk_table) = (&self.tables.content, &self.tables.chunks);
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let sql = format!("UPDATE {table} SET {SET_CONTENT} WHERE id = $14");
        let updated =
            bind_content(sqlx::query(AssertSqlSafe(sql)), content).execute(&mut *tx).await.map_err(map_unique)?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {chunk_table} WHERE content_id = $1")))
            .bind(&content.id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let cast = if self.pgvector { "::text::vector" } else { "::real[]" };
        for batch in chunks.chunks(INSERT_BATCH) {
            let rows: Vec<String> = (0..batch.len())
                .map(|i| {
                    let p = i * 7;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}::jsonb, ${}::jsonb, ${}{cast})",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 6,
                        p + 7
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO {chunk_table} (id, content_id, chunk_index, text, chunk_meta, meta, embedding) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for chunk in batch {
                query = query
                    .bind(chunk.id.clone())
                    .bind(content.id.clone())
                    .bind(chunk.index as i64)
                    .bind(chunk.text.clone())
                    .bind(Value::Object(chunk.metadata.clone()).to_string())
                    .bind(Value::Object(merge_metadata(&content.metadata, &chunk.metadata)).to_string());
                let embedding = chunk.embedding.as_deref().map(normalized);
                query = match (self.pgvector, embedding) {
                    (true, embedding) => query.bind(embedding.as_deref().map(vector_literal)),
                    (false, embedding) => query.bind(embedding),
                };
            }
            query.execute(&mut *tx).await.map_err(backend)?;
        }
        let generation = self.bump(&mut tx).await?;
        tx.commit().await.map_err(backend)?;
        let entries = chunks
            .iter()
            .filter_map(|chunk| {
                Some(IndexEntry {
                    chunk_id: chunk.id.clone(),
                    content_id: content.id.clone(),
                    metadata: merge_metadata(&content.metadata, &chunk.metadata),
                    vector: chunk.embedding.clone()?,
                })
            })
            .collect();
        self.apply(generation, Change::Replace(&content.id, entries)).await?;
        Ok(true)
    }

    async fn delete_content(&self, id: &str) -> Result<bool, KnowledgeError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {} WHERE content_id = $1", self.tables.chunks)))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let deleted = sqlx::query(AssertSqlSafe(format!("DELETE FROM {} WHERE id = $1", self.tables.content)))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let generation = self.bump(&mut tx).await?;
        tx.commit().await.map_err(backend)?;
        self.apply(generation, Change::Remove(id)).await?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn lexical_search(
        &self,
        text: &str,
        filters: &Map<String, Value>,
        top_k: usize,
    ) -> Result<Vec<SearchHit>, KnowledgeError> {
        let (filter_clause, binds) = filter_sql(filters, 3)?;
        let terms = query_terms(text);
        if terms.is_empty() || top_k == 0 {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{} WHERE ch.tsv @@ to_tsquery('english', $1){filter_clause} ORDER BY rank DESC, ch.id LIMIT $2",
            self.hit_select(", ts_rank_cd(ch.tsv, to_tsquery('english', $1))::real AS rank")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(terms.join(" | ")).bind(top_k as i64);
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(|row| hit_from_row(row, row.try_get::<f32, _>("rank").unwrap_or_default())).collect()
    }

    async fn vector_search(
        &self,
        vector: &[f32],
        filters: &Map<String, Value>,
        top_k: usize,
    ) -> Result<Vec<SearchHit>, KnowledgeError> {
        let (filter_clause, binds) = filter_sql(filters, 3)?;
        if top_k == 0 {
            return Ok(Vec::new());
        }
        if let Some(kind) = self.index_kind {
            return self.index_search(kind, vector, filters, top_k).await;
        }
        let query_vector = normalized(vector);
        let query = sqlx::query(AssertSqlSafe(self.vector_sql(&filter_clause)));
        let query = if self.pgvector { query.bind(vector_literal(&query_vector)) } else { query.bind(query_vector) };
        let mut query = query.bind(top_k as i64);
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(|row| hit_from_row(row, row.try_get::<f32, _>("score").unwrap_or_default())).collect()
    }

    async fn chunk_count(&self, content_id: Option<&str>) -> Result<u64, KnowledgeError> {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE ($1::text IS NULL OR content_id = $1)", self.tables.chunks);
        let count: i64 =
            sqlx::query_scalar(AssertSqlSafe(sql)).bind(content_id).fetch_one(&self.pool).await.map_err(backend)?;
        Ok(count.max(0) as u64)
    }

    async fn metadata_keys(&self) -> Result<Vec<String>, KnowledgeError> {
        let sql = format!("SELECT DISTINCT jsonb_object_keys(metadata) AS key FROM {} ORDER BY 1", self.tables.content);
        sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(backend)
    }

    async fn touch_processing(&self, id: &str, now: i64) -> Result<(), KnowledgeError> {
        let sql = format!("UPDATE {} SET updated_at = $1 WHERE id = $2 AND status = 'processing'", self.tables.content);
        sqlx::query(AssertSqlSafe(sql)).bind(now).bind(id).execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    async fn stale_processing(&self, updated_before: i64) -> Result<Vec<Content>, KnowledgeError> {
        let sql = format!(
            "SELECT {CONTENT_COLUMNS} FROM {} WHERE status = 'processing' AND updated_at < $1",
            self.tables.content
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(updated_before).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(content_from_row).collect()
    }
    fn content_table(&self) -> &str {
        &self.tables.content
    }
}

impl PostgresKnowledge {
    /// Vector search SQL: `$1` the query vector, `$2` the limit, filters from `$3`.
    fn vector_sql(&self, filter_clause: &str) -> String {
        // Stored vectors are normalized, so a dot product is the cosine similarity.
        let (score, dimensions) = if self.pgvector {
            (
                "(1 - (ch.embedding <=> $1::text::vector))::real",
                "vector_dims(ch.embedding) = vector_dims($1::text::vector)",
            )
        } else {
            (
                "(SELECT SUM(a * b) FROM unnest(ch.embedding, $1::real[]) AS t(a, b))::real",
                "cardinality(ch.embedding) = cardinality($1::real[])",
            )
        };
        format!(
            "{} WHERE ch.embedding IS NOT NULL AND {dimensions}{filter_clause} ORDER BY score DESC, ch.id LIMIT $2",
            self.hit_select(&format!(", {score} AS score"))
        )
    }
}
