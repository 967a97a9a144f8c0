//! `KnowledgeStore` for `SqliteKnowledge`: content rows, atomic chunk
//! commits, FTS5 and vector search.

use agent_core::knowledge::{KnowledgeError, SearchHit};
use agent_core::{Page, SortOrder, StoreError};
use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Row};

use super::{
    CONTENT_COLUMNS, SqliteKnowledge, bind_content, bind_filters, content_from_row, filter_sql, hit_from_row,
    is_unique_violation,
};
use crate::knowledge::content::{Content, ContentQuery};
use crate::knowledge::store::{KnowledgeStore, StoredChunk, backend, merge_metadata, query_terms, vector_to_bytes};
use crate::knowledge::vector_index::IndexEntry;

#[async_trait]
impl KnowledgeStore for SqliteKnowledge {
    async fn insert_content(&self, content: &Content) -> Result<Option<Content>, KnowledgeError> {
        let table = &self.tables.content;
        let sql = format!(
            "INSERT INTO {table} (name, description, metadata, content_type, size, access_count, status, \
             status_message, source, reader, content_hash, created_at, updated_at, id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (content_hash) DO NOTHING"
        );
        let done = bind_content(sqlx::query(AssertSqlSafe(sql)), content).execute(&self.pool).await.map_err(backend)?;
        if done.rows_affected() > 0 {
            return Ok(None);
        }
        let sql = format!("SELECT {CONTENT_COLUMNS} FROM {table} WHERE content_hash = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(&content.content_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(content_from_row).transpose()
    }

    async fn content(&self, id: &str) -> Result<Option<Content>, KnowledgeError> {
        let sql = format!("SELECT {CONTENT_COLUMNS} FROM {} WHERE id = ?", self.tables.content);
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
        let limit = query.limit.map_or(-1, i64::from);
        let offset = query.limit.map_or(0, |limit| i64::from(limit) * i64::from(page - 1));
        let direction = if query.sort_order == SortOrder::Asc { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {CONTENT_COLUMNS} FROM {table} ORDER BY {} {direction}, id {direction} LIMIT ? OFFSET ?",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let old: Option<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT metadata FROM {table} WHERE id = ?")))
                .bind(&content.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let Some(old) = old else { return Ok(false) };
        let sql = format!(
            "UPDATE {table} SET name = ?, description = ?, metadata = ?, content_type = ?, size = ?, \
             access_count = ?, status = ?, status_message = ?, source = ?, reader = ?, content_hash = ?, \
             created_at = ?, updated_at = ? WHERE id = ?"
        );
        bind_content(sqlx::query(AssertSqlSafe(sql)), content).execute(&mut *tx).await.map_err(|err| {
            if is_unique_violation(&err) {
                KnowledgeError::Store(StoreError::Invalid(
                    "identical content already exists in this knowledge base".into(),
                ))
            } else {
                backend(err)
            }
        })?;
        let metadata_changed = super::parse_map(&old).as_ref() != Some(&content.metadata);
        if metadata_changed {
            let rows = sqlx::query(AssertSqlSafe(format!("SELECT id, chunk_meta FROM {chunks} WHERE content_id = ?")))
                .bind(&content.id)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
            let update = format!("UPDATE {chunks} SET meta = ? WHERE id = ?");
            for row in rows {
                let id: String = row.try_get("id").map_err(backend)?;
                let own =
                    super::parse_map(&row.try_get::<String, _>("chunk_meta").map_err(backend)?).unwrap_or_default();
                let merged = Value::Object(merge_metadata(&content.metadata, &own)).to_string();
                sqlx::query(AssertSqlSafe(update.clone()))
                    .bind(merged)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
            }
        }
        tx.commit().await.map_err(backend)?;
        if metadata_changed {
            self.refresh_index(&content.id).await?;
        }
        Ok(true)
    }

    async fn commit_chunks(&self, content: &Content, chunks: &[StoredChunk]) -> Result<bool, KnowledgeError> {
        let (table, chunk_table) = (&self.tables.content, &self.tables.chunks);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let sql = format!(
            "UPDATE {table} SET name = ?, description = ?, metadata = ?, content_type = ?, size = ?, \
             access_count = ?, status = ?, status_message = ?, source = ?, reader = ?, content_hash = ?, \
             created_at = ?, updated_at = ? WHERE id = ?"
        );
        let updated =
            bind_content(sqlx::query(AssertSqlSafe(sql)), content).execute(&mut *tx).await.map_err(backend)?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {chunk_table} WHERE content_id = ?")))
            .bind(&content.id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let insert = format!(
            "INSERT INTO {chunk_table} (id, content_id, chunk_index, text, chunk_meta, meta, embedding) \
             VALUES (?, ?, ?, ?, ?, ?, ?)"
        );
        for chunk in chunks {
            sqlx::query(AssertSqlSafe(insert.clone()))
                .bind(&chunk.id)
                .bind(&content.id)
                .bind(chunk.index as i64)
                .bind(&chunk.text)
                .bind(Value::Object(chunk.metadata.clone()).to_string())
                .bind(Value::Object(merge_metadata(&content.metadata, &chunk.metadata)).to_string())
                .bind(chunk.embedding.as_deref().map(vector_to_bytes))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        let mut index = self.index.write().await;
        tx.commit().await.map_err(backend)?;
        if let Some(index) = index.as_mut() {
            index.remove_content(&content.id);
            index.insert(
                chunks
                    .iter()
                    .filter_map(|chunk| {
                        Some(IndexEntry {
                            chunk_id: chunk.id.clone(),
                            content_id: content.id.clone(),
                            metadata: merge_metadata(&content.metadata, &chunk.metadata),
                            vector: chunk.embedding.clone()?,
                        })
                    })
                    .collect(),
            );
        }
        Ok(true)
    }

    async fn delete_content(&self, id: &str) -> Result<bool, KnowledgeError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {} WHERE content_id = ?", self.tables.chunks)))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let deleted = sqlx::query(AssertSqlSafe(format!("DELETE FROM {} WHERE id = ?", self.tables.content)))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let mut index = self.index.write().await;
        tx.commit().await.map_err(backend)?;
        if let Some(index) = index.as_mut() {
            index.remove_content(id);
        }
        Ok(deleted.rows_affected() > 0)
    }

    async fn lexical_search(
        &self,
        text: &str,
        filters: &Map<String, Value>,
        top_k: usize,
    ) -> Result<Vec<SearchHit>, KnowledgeError> {
        let terms = query_terms(text);
        if terms.is_empty() || top_k == 0 {
            return Ok(Vec::new());
        }
        let fts = &self.tables.fts;
        let (filter_clause, binds) = filter_sql(filters)?;
        let sql = format!(
            "{} WHERE {fts} MATCH ? AND ch.seq = {fts}.rowid{filter_clause} ORDER BY rank LIMIT ?",
            self.hit_select(&format!(", bm25({fts}) AS rank"), &format!("{fts}, "))
        );
        let expression = terms.iter().map(|term| format!("\"{term}\"")).collect::<Vec<_>>().join(" OR ");
        let query = bind_filters(sqlx::query(AssertSqlSafe(sql)).bind(expression), binds);
        let rows = query.bind(top_k as i64).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter()
            .map(|row| {
                let rank: f64 = row.try_get("rank").map_err(backend)?;
                hit_from_row(row, -rank as f32)
            })
            .collect()
    }

    async fn vector_search(
        &self,
        vector: &[f32],
        filters: &Map<String, Value>,
        top_k: usize,
    ) -> Result<Vec<SearchHit>, KnowledgeError> {
        for (key, value) in filters {
            crate::knowledge::store::filter_options(key, value)?;
        }
        if self.index.read().await.is_none() {
            let mut index = self.index.write().await;
            if index.is_none() {
                let mut fresh = self.index_kind.build();
                fresh.insert(self.index_entries(None).await?);
                *index = Some(fresh);
            }
        }
        let found = match self.index.read().await.as_ref() {
            Some(index) => index.search(vector, filters, top_k),
            None => Vec::new(),
        };
        self.hits(&found).await
    }

    async fn chunk_count(&self, content_id: Option<&str>) -> Result<u64, KnowledgeError> {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE (? IS NULL OR content_id = ?)", self.tables.chunks);
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(content_id)
            .bind(content_id)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(count.max(0) as u64)
    }

    async fn metadata_keys(&self) -> Result<Vec<String>, KnowledgeError> {
        let sql =
            format!("SELECT DISTINCT j.key FROM {}, json_each({0}.metadata) j ORDER BY j.key", self.tables.content);
        sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(backend)
    }

    async fn touch_processing(&self, id: &str, now: i64) -> Result<(), KnowledgeError> {
        let sql = format!("UPDATE {} SET updated_at = ? WHERE id = ? AND status = 'processing'", self.tables.content);
        sqlx::query(AssertSqlSafe(sql)).bind(now).bind(id).execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    async fn stale_processing(&self, updated_before: i64) -> Result<Vec<Content>, KnowledgeError> {
        let sql = format!(
            "SELECT {CONTENT_COLUMNS} FROM {} WHERE status = 'processing' AND updated_at < ?",
            self.tables.content
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(updated_before).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(content_from_row).collect()
    }
    fn content_table(&self) -> &str {
        &self.tables.content
    }
}
