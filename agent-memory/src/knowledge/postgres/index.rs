//! The optional in-memory vector index of `PostgresKnowledge`, kept fresh
//! across processes by a generation counter every write bumps.

use agent_core::knowledge::{KnowledgeError, SearchHit};
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use super::{PostgresKnowledge, hit_from_row, parse_map};
use crate::knowledge::store::{backend, corrupt, filter_options};
use crate::knowledge::vector_index::{IndexEntry, VectorIndex};

/// A loaded index and the generation of the data it holds.
pub(super) struct Loaded {
    generation: i64,
    index: Box<dyn VectorIndex>,
}

/// What a write did, for the in-memory index.
pub(super) enum Change<'a> {
    /// The item's chunks were replaced by these entries.
    Replace(&'a str, Vec<IndexEntry>),
    /// The item's chunks changed in the database (reload them).
    Reload(&'a str),
    /// The item and its chunks were deleted.
    Remove(&'a str),
}

impl PostgresKnowledge {
    /// Bumps the generation inside a write transaction; returns the new one.
    pub(super) async fn bump(&self, tx: &mut Transaction<'static, Postgres>) -> Result<i64, KnowledgeError> {
        let sql = format!(
            "UPDATE {} SET generation = generation + 1 WHERE id = 1 RETURNING generation",
            self.tables.generation
        );
        sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut **tx).await.map_err(backend)
    }

    /// Applies a committed write to the loaded index, or drops the index when
    /// another process wrote in between (the next search reloads it).
    pub(super) async fn apply(&self, generation: i64, change: Change<'_>) -> Result<(), KnowledgeError> {
        if self.index_kind.is_none() {
            return Ok(());
        }
        let reloaded = match &change {
            Change::Reload(content_id) => Some(self.index_entries(Some(content_id)).await?),
            _ => None,
        };
        let mut slot = self.index.write().await;
        match slot.as_mut() {
            Some(loaded) if loaded.generation == generation - 1 => {
                match change {
                    Change::Replace(content_id, entries) => {
                        loaded.index.remove_content(content_id);
                        loaded.index.insert(entries);
                    }
                    Change::Reload(content_id) => {
                        loaded.index.remove_content(content_id);
                        loaded.index.insert(reloaded.unwrap_or_default());
                    }
                    Change::Remove(content_id) => loaded.index.remove_content(content_id),
                }
                loaded.generation = generation;
            }
            _ => *slot = None,
        }
        Ok(())
    }

    async fn index_entries(&self, content_id: Option<&str>) -> Result<Vec<IndexEntry>, KnowledgeError> {
        let embedding = if self.pgvector { "ch.embedding::text" } else { "ch.embedding::real[]::text" };
        let sql = format!(
            "SELECT ch.id, ch.content_id, ch.meta::text AS meta, {embedding} AS embedding FROM {} ch \
             WHERE ch.embedding IS NOT NULL AND ($1::text IS NULL OR ch.content_id = $1)",
            self.tables.chunks
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(content_id).fetch_all(&self.pool).await.map_err(backend)?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let chunk_id: String = row.try_get("id").map_err(backend)?;
            let metadata = parse_map(&row.try_get::<String, _>("meta").map_err(backend)?)
                .ok_or_else(|| corrupt("chunk", &chunk_id, "metadata is not a JSON object"))?;
            let text: String = row.try_get("embedding").map_err(backend)?;
            let vector = parse_vector(&text).ok_or_else(|| corrupt("chunk", &chunk_id, "embedding is not a vector"))?;
            entries.push(IndexEntry {
                chunk_id,
                content_id: row.try_get("content_id").map_err(backend)?,
                metadata,
                vector,
            });
        }
        Ok(entries)
    }

    /// Vector search through the in-memory index, reloading it when the
    /// database's generation moved on.
    pub(super) async fn index_search(
        &self,
        kind: crate::knowledge::vector_index::IndexKind,
        vector: &[f32],
        filters: &Map<String, Value>,
        top_k: usize,
    ) -> Result<Vec<SearchHit>, KnowledgeError> {
        for (key, value) in filters {
            filter_options(key, value)?;
        }
        let sql = format!("SELECT generation FROM {} WHERE id = 1", self.tables.generation);
        let current: i64 = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&self.pool).await.map_err(backend)?;
        let fresh = self.index.read().await.as_ref().is_some_and(|loaded| loaded.generation == current);
        if !fresh {
            let mut slot = self.index.write().await;
            if slot.as_ref().is_none_or(|loaded| loaded.generation != current) {
                // Read after the generation: a write in between only makes the next search reload again.
                let mut index = kind.build();
                index.insert(self.index_entries(None).await?);
                *slot = Some(Loaded { generation: current, index });
            }
        }
        let found = match self.index.read().await.as_ref() {
            Some(loaded) => loaded.index.search(vector, filters, top_k),
            None => Vec::new(),
        };
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = found.iter().map(|(id, _)| id.clone()).collect();
        let sql = format!("{} WHERE ch.id = ANY($1)", self.hit_select(""));
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(ids).fetch_all(&self.pool).await.map_err(backend)?;
        let mut by_id: std::collections::HashMap<String, sqlx::postgres::PgRow> =
            rows.into_iter().filter_map(|row| Some((row.try_get("id").ok()?, row))).collect();
        found.iter().filter_map(|(id, score)| by_id.remove(id).map(|row| hit_from_row(&row, *score))).collect()
    }
}

/// Parses `[1,2]` (pgvector) or `{1,2}` (a Postgres array).
fn parse_vector(text: &str) -> Option<Vec<f32>> {
    let inner = text.trim().strip_prefix(['[', '{'])?.strip_suffix([']', '}'])?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(|part| part.trim().parse().ok()).collect()
}
