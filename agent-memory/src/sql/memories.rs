//! `MemoryStore` for `SqlStore`: user memories, topics and per-user counts.

use agent_core::memory::{MemoryQuery, MemorySort, MemoryStore, UserMemory, UserMemoryStats};
use agent_core::support::check_owner;
use agent_core::{Page, SortOrder, StoreError};
use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Row, Type};

use super::{Dialect, SqlStore, check_text};
use crate::codec::{self, JsonColumn, backend, limit_offset, to_json_column};

const MEMORY_COLUMNS: &str = "memory_id, memory, topics, user_id, agent_id, team_id, input, created_at, updated_at";

const UPSERT_MEMORY: &str = "INSERT INTO agent_memories (memory_id, memory, topics, user_id, agent_id, team_id, \
     input, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (memory_id) DO UPDATE SET memory = excluded.memory, topics = excluded.topics, \
     user_id = excluded.user_id, agent_id = excluded.agent_id, team_id = excluded.team_id, \
     input = excluded.input, created_at = excluded.created_at, updated_at = excluded.updated_at";

const DELETE_MEMORY: &str = "DELETE FROM agent_memories WHERE memory_id = $1";

const MEMORY_USERS: &str = "SELECT COUNT(DISTINCT user_id) FROM agent_memories WHERE user_id IS NOT NULL";

impl<DB: Dialect> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> Option<&'e str>: Encode<'e, DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> JsonColumn: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> Option<JsonColumn>: Encode<'e, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn write_memory(conn: &mut DB::Connection, memory: &UserMemory) -> Result<(), StoreError> {
        // Refused up front with a clear message rather than by the database.
        let texts = [memory.memory_id.as_str(), memory.memory.as_str()].into_iter().chain(
            [&memory.user_id, &memory.agent_id, &memory.team_id, &memory.input]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
        for text in texts.chain(memory.topics.iter().map(String::as_str)) {
            check_text::<DB>("the memory", text)?;
        }
        sqlx::query(UPSERT_MEMORY)
            .bind(memory.memory_id.as_str())
            .bind(memory.memory.as_str())
            .bind(to_json_column(&memory.topics, "memory topics")?)
            .bind(memory.user_id.as_deref())
            .bind(memory.agent_id.as_deref())
            .bind(memory.team_id.as_deref())
            .bind(memory.input.as_deref())
            .bind(memory.created_at)
            .bind(memory.updated_at)
            .execute(conn)
            .await
            .map_err(backend)?;
        Ok(())
    }

    fn push_memory_filters(builder: &mut QueryBuilder<DB>, query: &MemoryQuery) {
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
        for topic in &query.topics {
            builder.push(DB::TOPIC_HAS_OPEN).push_bind(topic.clone()).push(DB::TOPIC_HAS_CLOSE);
        }
        if let Some(needle) = &query.search_content {
            builder.push(" AND lower(memory) LIKE lower(").push_bind(codec::like_pattern(needle)).push(") ESCAPE '\\'");
        }
    }
}

#[async_trait]
impl<DB: Dialect> MemoryStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> Option<&'e str>: Encode<'e, DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> JsonColumn: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> Option<JsonColumn>: Encode<'e, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn upsert_memory(&self, memory: &UserMemory) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        Self::write_memory(&mut conn, memory).await
    }

    async fn memory(&self, memory_id: &str) -> Result<Option<UserMemory>, StoreError> {
        let sql = format!("SELECT {MEMORY_COLUMNS} FROM agent_memories WHERE memory_id = $1");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(memory_id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(codec::memory).transpose()
    }

    async fn delete_memory(&self, memory_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(DELETE_MEMORY).bind(memory_id).execute(&self.pool).await.map_err(backend)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn delete_memories(&self, memory_ids: &[String]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(backend)?;
        let mut deleted = 0;
        for memory_id in memory_ids {
            let done = sqlx::query(DELETE_MEMORY).bind(memory_id.as_str()).execute(&mut *tx).await.map_err(backend)?;
            deleted += DB::rows_affected(&done);
        }
        tx.commit().await.map_err(backend)?;
        Ok(deleted)
    }

    async fn list_memories(&self, query: &MemoryQuery) -> Result<Page<UserMemory>, StoreError> {
        let mut count = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM agent_memories");
        Self::push_memory_filters(&mut count, query);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;

        let mut select = QueryBuilder::<DB>::new(format!("SELECT {MEMORY_COLUMNS} FROM agent_memories"));
        Self::push_memory_filters(&mut select, query);
        let (key, text) = match query.sort_by {
            MemorySort::UpdatedAt => ("updated_at", ""),
            MemorySort::CreatedAt => ("created_at", ""),
            MemorySort::Memory => ("memory", DB::BYTE_ORDER),
        };
        let direction = match query.sort_order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let byte_order = DB::BYTE_ORDER;
        select.push(format!(" ORDER BY {key}{text} {direction}, memory_id{byte_order} {direction}"));
        if let Some((limit, offset)) = limit_offset(query.limit, query.page) {
            select.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        }
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        Ok(codec::page(codec::decode_list(&rows, codec::memory), total, query.limit, query.page))
    }

    async fn memory_topics(&self, user_id: Option<&str>) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(DB::MEMORY_TOPICS).bind(user_id).fetch_all(&self.pool).await.map_err(backend)
    }

    async fn user_memory_stats(
        &self,
        limit: Option<u32>,
        page: Option<u32>,
    ) -> Result<Page<UserMemoryStats>, StoreError> {
        let total: i64 = sqlx::query_scalar(MEMORY_USERS).fetch_one(&self.pool).await.map_err(backend)?;
        let (limit_value, offset) = limit_offset(limit, page).unwrap_or((i64::MAX, 0));
        let byte_order = DB::BYTE_ORDER;
        let sql = format!(
            "SELECT user_id, COUNT(*) AS total, MAX(updated_at) AS last_updated FROM agent_memories \
             WHERE user_id IS NOT NULL GROUP BY user_id ORDER BY last_updated DESC, user_id{byte_order} ASC \
             LIMIT $1 OFFSET $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
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
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(backend)?;
        sqlx::query("DELETE FROM agent_memories WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for memory in memories {
            Self::write_memory(&mut tx, memory).await?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn clear_memories(&self) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM agent_memories").execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }
}
