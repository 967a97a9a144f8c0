//! `EvalStore` for `SqlStore`: eval runs, listed with the AgentOS filters, renamed and deleted.

use agent_core::eval::{EvalQuery, EvalRun, EvalSort, EvalStore};
use agent_core::{Page, SessionType, SortOrder, StoreError};
use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use super::{Dialect, SqlStore, check_json, check_text};
use crate::codec::{self, JsonColumn, backend, limit_offset, to_json_column};

const EVAL_COLUMNS: &str = "id, eval_type, name, agent_id, team_id, workflow_id, model_id, model_provider, \
     evaluated_component_name, eval_input, eval_data, created_at, updated_at";

const INSERT_EVAL: &str = "INSERT INTO agent_eval_runs (id, eval_type, name, agent_id, team_id, workflow_id, \
     model_id, model_provider, evaluated_component_name, eval_input, eval_data, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

const DELETE_EVAL: &str = "DELETE FROM agent_eval_runs WHERE id = $1";

impl<DB: Dialect> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> String: Encode<'e, DB> + Type<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
{
    fn push_eval_filters(builder: &mut QueryBuilder<DB>, query: &EvalQuery) {
        builder.push(" WHERE 1 = 1");
        for (column, value) in [
            ("agent_id", &query.agent_id),
            ("team_id", &query.team_id),
            ("workflow_id", &query.workflow_id),
            ("model_id", &query.model_id),
        ] {
            if let Some(value) = value {
                builder.push(format!(" AND {column} = ")).push_bind(value.clone());
            }
        }
        match query.component {
            None => {}
            Some(SessionType::Agent) => {
                builder.push(" AND agent_id IS NOT NULL");
            }
            Some(SessionType::Team) => {
                builder.push(" AND team_id IS NOT NULL");
            }
            Some(SessionType::Workflow) => {
                builder.push(" AND workflow_id IS NOT NULL");
            }
        }
        if !query.eval_types.is_empty() {
            builder.push(" AND eval_type IN (");
            let mut types = builder.separated(", ");
            for eval_type in &query.eval_types {
                types.push_bind(eval_type.as_str());
            }
            builder.push(")");
        }
    }
}

#[async_trait]
impl<DB: Dialect> EvalStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> Option<&'e str>: Encode<'e, DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> JsonColumn: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn create_eval_run(&self, run: &EvalRun) -> Result<(), StoreError> {
        let texts = [&run.name, &run.agent_id, &run.team_id, &run.workflow_id, &run.model_id, &run.model_provider]
            .into_iter()
            .chain([&run.evaluated_component_name])
            .flatten()
            .map(String::as_str);
        for text in texts.chain([run.id.as_str()]) {
            check_text::<DB>("the eval run", text)?;
        }
        check_json::<DB>("the eval run's input", &run.eval_input)?;
        check_json::<DB>("the eval run's data", &run.eval_data)?;
        let done = sqlx::query(INSERT_EVAL)
            .bind(run.id.as_str())
            .bind(run.eval_type.as_str())
            .bind(run.name.as_deref())
            .bind(run.agent_id.as_deref())
            .bind(run.team_id.as_deref())
            .bind(run.workflow_id.as_deref())
            .bind(run.model_id.as_deref())
            .bind(run.model_provider.as_deref())
            .bind(run.evaluated_component_name.as_deref())
            .bind(to_json_column(&run.eval_input, "eval input")?)
            .bind(to_json_column(&run.eval_data, "eval data")?)
            .bind(run.created_at)
            .bind(run.updated_at)
            .execute(&self.pool)
            .await;
        match done {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                Err(StoreError::Invalid(format!("an eval run with id `{}` already exists", run.id)))
            }
            Err(err) => Err(backend(err)),
        }
    }

    async fn eval_run(&self, id: &str) -> Result<Option<EvalRun>, StoreError> {
        let sql = format!("SELECT {EVAL_COLUMNS} FROM agent_eval_runs WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(codec::eval_run).transpose()
    }

    async fn list_eval_runs(&self, query: &EvalQuery) -> Result<Page<EvalRun>, StoreError> {
        let mut count = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM agent_eval_runs");
        Self::push_eval_filters(&mut count, query);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;

        let mut select = QueryBuilder::<DB>::new(format!("SELECT {EVAL_COLUMNS} FROM agent_eval_runs"));
        Self::push_eval_filters(&mut select, query);
        let byte_order = DB::BYTE_ORDER;
        let key = match query.sort_by {
            EvalSort::CreatedAt => "created_at".to_owned(),
            EvalSort::UpdatedAt => "updated_at".to_owned(),
            EvalSort::Name => format!("COALESCE(name, ''){byte_order}"),
        };
        let direction = match query.sort_order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        select.push(format!(" ORDER BY {key} {direction}, id{byte_order} {direction}"));
        if let Some((limit, offset)) = limit_offset(query.limit, query.page) {
            select.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        }
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        Ok(codec::page(codec::decode_list(&rows, codec::eval_run), total, query.limit, query.page))
    }

    async fn rename_eval_run(&self, id: &str, name: &str) -> Result<Option<EvalRun>, StoreError> {
        check_text::<DB>("the eval run's name", name)?;
        let sql =
            format!("UPDATE agent_eval_runs SET name = $1, updated_at = $2 WHERE id = $3 RETURNING {EVAL_COLUMNS}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(agent_core::support::unix_now())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(codec::eval_run).transpose()
    }

    async fn delete_eval_runs(&self, ids: &[String]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await.map_err(backend)?;
        let mut deleted = 0;
        for id in ids {
            let done = sqlx::query(DELETE_EVAL).bind(id.as_str()).execute(&mut *tx).await.map_err(backend)?;
            deleted += DB::rows_affected(&done);
        }
        tx.commit().await.map_err(backend)?;
        Ok(deleted)
    }
}
