//! `MemoryStore` for Postgres: user memories, topics and per-user counts.

use agent_core::Page;
use agent_core::SortOrder;
use agent_core::StoreError;
use agent_core::memory::{MemoryQuery, MemorySort, MemoryStore, UserMemory, UserMemoryStats};
use agent_core::support::check_owner;
use async_trait::async_trait;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::PostgresStore;
use crate::codec::{self, backend, limit_offset, to_json};

const MEMORY_COLUMNS: &str =
    "memory_id, memory, topics::text AS topics, user_id, agent_id, team_id, input, created_at, updated_at";

const UPSERT_MEMORY: &str = "INSERT INTO agent_memories (memory_id, memory, topics, user_id, agent_id, team_id, \
     input, created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (memory_id) DO UPDATE SET memory = excluded.memory, topics = excluded.topics, \
     user_id = excluded.user_id, agent_id = excluded.agent_id, team_id = excluded.team_id, \
     input = excluded.input, created_at = excluded.created_at, updated_at = excluded.updated_at";

/// The topics of a row as a JSON array, `[]` when the column is not one
/// (a corrupt row must not break topic queries over the others).
const TOPICS_ARRAY: &str = "(CASE WHEN jsonb_typeof(topics) = 'array' THEN topics ELSE '[]'::jsonb END)";

async fn upsert(conn: &mut PgConnection, memory: &UserMemory) -> Result<(), StoreError> {
    sqlx::query(UPSERT_MEMORY)
        .bind(&memory.memory_id)
        .bind(&memory.memory)
        .bind(to_json(&memory.topics, "memory topics")?)
        .bind(&memory.user_id)
        .bind(&memory.agent_id)
        .bind(&memory.team_id)
        .bind(&memory.input)
        .bind(memory.created_at)
        .bind(memory.updated_at)
        .execute(conn)
        .await
        .map_err(backend)?;
    Ok(())
}

fn push_filters(builder: &mut QueryBuilder<Postgres>, query: &MemoryQuery) {
    builder.push(" WHERE 1 = 1");
    if let Some(user_id) = &query.user_id {
        builder.push(" AND user_id = ").push_bind(user_id.clone());
    }
    if let Some(agent_id) = &query.agent_id {
        builder.push(" AND agent_id = ").push_bind(agent_id.clone());
    }
    if let Some(team_id) = &query.team_id {
        builder.push(" AND team_id = ").push_bind(team_id.clone());
    }
    if !query.topics.is_empty() {
        // `?|`: the array holds at least one of these strings (served by the GIN index).
        builder.push(" AND topics ?| ").push_bind(query.topics.clone());
    }
    if let Some(needle) = &query.search_content {
        builder.push(" AND memory ILIKE ").push_bind(codec::like_pattern(needle)).push(" ESCAPE '\\'");
    }
}

#[async_trait]
impl MemoryStore for PostgresStore {
    async fn upsert_memory(&self, memory: &UserMemory) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        upsert(&mut conn, memory).await
    }

    async fn memory(&self, memory_id: &str) -> Result<Option<UserMemory>, StoreError> {
        let sql = format!("SELECT {MEMORY_COLUMNS} FROM agent_memories WHERE memory_id = $1");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(memory_id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(codec::memory).transpose()
    }

    async fn delete_memory(&self, memory_id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM agent_memories WHERE memory_id = $1")
            .bind(memory_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_memories(&self, memory_ids: &[String]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let mut deleted = 0;
        for memory_id in memory_ids {
            let result = sqlx::query("DELETE FROM agent_memories WHERE memory_id = $1")
                .bind(memory_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            deleted += result.rows_affected();
        }
        tx.commit().await.map_err(backend)?;
        Ok(deleted)
    }

    async fn list_memories(&self, query: &MemoryQuery) -> Result<Page<UserMemory>, StoreError> {
        let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM agent_memories");
        push_filters(&mut count, query);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;

        let mut select = QueryBuilder::<Postgres>::new(format!("SELECT {MEMORY_COLUMNS} FROM agent_memories"));
        push_filters(&mut select, query);
        let key = match query.sort_by {
            MemorySort::UpdatedAt => "updated_at",
            MemorySort::CreatedAt => "created_at",
            MemorySort::Memory => "memory COLLATE \"C\"",
        };
        let direction = match query.sort_order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        select.push(format!(" ORDER BY {key} {direction}, memory_id COLLATE \"C\" {direction}"));
        if let Some((limit, offset)) = limit_offset(query.limit, query.page) {
            select.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        }
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        Ok(codec::page(codec::decode_list(&rows, codec::memory), total, query.limit, query.page))
    }

    async fn memory_topics(&self, user_id: Option<&str>) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT DISTINCT (element #>> '{{}}') COLLATE \"C\" AS topic FROM agent_memories \
             CROSS JOIN LATERAL jsonb_array_elements({TOPICS_ARRAY}) AS topics (element) \
             WHERE ($1::text IS NULL OR user_id = $1) AND jsonb_typeof(element) = 'string' \
             ORDER BY topic"
        );
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&self.pool).await.map_err(backend)
    }

    async fn user_memory_stats(
        &self,
        limit: Option<u32>,
        page: Option<u32>,
    ) -> Result<Page<UserMemoryStats>, StoreError> {
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(DISTINCT user_id) FROM agent_memories WHERE user_id IS NOT NULL")
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        let (limit_value, offset) = match limit_offset(limit, page) {
            Some((limit, offset)) => (Some(limit), offset),
            None => (None, 0),
        };
        let rows = sqlx::query(
            "SELECT user_id, COUNT(*) AS total, MAX(updated_at) AS last_updated FROM agent_memories \
             WHERE user_id IS NOT NULL GROUP BY user_id ORDER BY last_updated DESC, user_id COLLATE \"C\" ASC LIMIT $1 OFFSET $2",
        )
        .bind(limit_value)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let total_memories: i64 = row.try_get("total").map_err(backend)?;
            items.push(UserMemoryStats {
                user_id: row.try_get("user_id").map_err(backend)?,
                total_memories: u64::try_from(total_memories).unwrap_or(0),
                last_memory_updated_at: row.try_get("last_updated").map_err(backend)?,
            });
        }
        Ok(codec::page(items, total, limit, page))
    }

    async fn replace_user_memories(&self, user_id: &str, memories: &[UserMemory]) -> Result<(), StoreError> {
        check_owner(user_id, memories)?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM agent_memories WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for memory in memories {
            upsert(&mut tx, memory).await?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn clear_memories(&self) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM agent_memories").execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }
}
