//! Rows to core types and back: the JSON columns, the message format version,
//! and the `Corrupt` errors that name a row that cannot be decoded.

use agent_core::eval::{EvalRun, EvalType};
use agent_core::memory::UserMemory;
use agent_core::support::MESSAGE_FORMAT_VERSION;
use agent_core::{Message, Page, RunRecord, RunStatus, Session, SessionType, StoreError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Decode, Row, Type};

/// A JSON column as bound and read: `TEXT` on SQLite, `JSONB` on Postgres.
pub(crate) type JsonColumn = Json<Box<RawValue>>;

/// Maps a database error to the store's error.
pub(crate) fn backend(err: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(err))
}

/// Reads one column, describing a failure for a `Corrupt` error.
fn column<'r, R, T>(row: &'r R, name: &'static str) -> Result<T, String>
where
    R: Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    row.try_get(name).map_err(|err| format!("column `{name}`: {err}"))
}

/// Parses JSON text.
fn json<T: DeserializeOwned>(text: &str, name: &'static str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|err| format!("column `{name}`: {err}"))
}

/// Reads and parses a JSON column.
fn json_column<'r, R, T>(row: &'r R, name: &'static str) -> Result<T, String>
where
    R: Row,
    T: DeserializeOwned,
    JsonColumn: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let raw: JsonColumn = column(row, name)?;
    json(raw.0.get(), name)
}

/// Reads and parses a nullable JSON column.
fn optional_json_column<'r, R, T>(row: &'r R, name: &'static str) -> Result<Option<T>, String>
where
    R: Row,
    T: DeserializeOwned,
    JsonColumn: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let raw: Option<JsonColumn> = column(row, name)?;
    raw.map(|raw| json(raw.0.get(), name)).transpose()
}

/// Serializes a value for a text column holding JSON.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T, what: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|err| StoreError::Invalid(format!("{what} cannot be serialized: {err}")))
}

/// Serializes a value for a JSON column.
pub(crate) fn to_json_column<T: serde::Serialize + ?Sized>(
    value: &T,
    what: &'static str,
) -> Result<JsonColumn, StoreError> {
    serde_json::value::to_raw_value(value)
        .map(Json)
        .map_err(|err| StoreError::Invalid(format!("{what} cannot be serialized: {err}")))
}

/// The JSON columns of a session, serialized.
pub(crate) struct SessionJson {
    pub(crate) state: JsonColumn,
    pub(crate) summary: Option<JsonColumn>,
    pub(crate) metrics: JsonColumn,
    pub(crate) metadata: JsonColumn,
}

impl SessionJson {
    pub(crate) fn of(session: &Session) -> Result<Self, StoreError> {
        Ok(Self {
            state: to_json_column(&session.state, "session state")?,
            summary: session.summary.as_ref().map(|summary| to_json_column(summary, "session summary")).transpose()?,
            metrics: to_json_column(&session.metrics, "session metrics")?,
            metadata: to_json_column(&session.metadata, "session metadata")?,
        })
    }
}

/// The JSON columns of a run, serialized. Messages and paused runs are text
/// columns: opaque versioned documents kept as written (which keeps any text,
/// `\u0000` included).
pub(crate) struct RunJson {
    pub(crate) messages: String,
    pub(crate) events: JsonColumn,
    pub(crate) metrics: JsonColumn,
    pub(crate) paused: Option<String>,
    pub(crate) metadata: JsonColumn,
}

impl RunJson {
    pub(crate) fn of(run: &RunRecord) -> Result<Self, StoreError> {
        #[derive(serde::Serialize)]
        struct Versioned<'a> {
            version: u32,
            messages: &'a [Message],
        }
        Ok(Self {
            messages: to_json(&Versioned { version: MESSAGE_FORMAT_VERSION, messages: &run.messages }, "run messages")?,
            events: to_json_column(&run.events, "run events")?,
            metrics: to_json_column(&run.metrics, "run metrics")?,
            paused: run.paused.as_ref().map(|paused| to_json(paused, "paused run")).transpose()?,
            metadata: to_json_column(&run.metadata, "run metadata")?,
        })
    }
}

/// Decodes a session row; the columns are those of `SESSION_COLUMNS`.
pub(crate) fn session<R>(row: &R) -> Result<Session, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> JsonColumn: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let id: String = column(row, "session_id").unwrap_or_else(|_| "<unreadable id>".to_owned());
    let decode = || -> Result<Session, String> {
        let session_type: String = column(row, "session_type")?;
        Ok(Session {
            session_id: id.clone(),
            session_type: SessionType::parse(&session_type)
                .ok_or_else(|| format!("unknown session type `{session_type}`"))?,
            component_id: column(row, "component_id")?,
            user_id: column(row, "user_id")?,
            session_name: column(row, "session_name")?,
            state: json_column(row, "session_state")?,
            summary: optional_json_column(row, "summary")?,
            metrics: json_column(row, "metrics")?,
            metadata: json_column(row, "metadata")?,
            created_at: column(row, "created_at")?,
            updated_at: column(row, "updated_at")?,
        })
    };
    decode().map_err(|message| StoreError::Corrupt { what: "session", id, message })
}

/// Decodes a run row; the columns are those of `RUN_COLUMNS`.
pub(crate) fn run<R>(row: &R) -> Result<RunRecord, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> JsonColumn: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let session_id: String = column(row, "session_id").unwrap_or_else(|_| "<unreadable id>".to_owned());
    let run_id: String = column(row, "run_id").unwrap_or_else(|_| "<unreadable id>".to_owned());
    let decode = || -> Result<RunRecord, String> {
        let status: String = column(row, "status")?;
        let messages: String = column(row, "messages")?;
        let paused: Option<String> = column(row, "paused")?;
        Ok(RunRecord {
            run_id: run_id.clone(),
            session_id: session_id.clone(),
            parent_run_id: column(row, "parent_run_id")?,
            component_id: column(row, "component_id")?,
            user_id: column(row, "user_id")?,
            status: RunStatus::parse(&status).ok_or_else(|| format!("unknown run status `{status}`"))?,
            input: column(row, "input")?,
            output: column(row, "output")?,
            messages: messages_of(&messages)?,
            events: json_column(row, "events")?,
            metrics: json_column(row, "metrics")?,
            paused: paused.as_deref().map(|text| json(text, "paused")).transpose()?,
            error: column(row, "error")?,
            model: column(row, "model")?,
            model_provider: column(row, "model_provider")?,
            metadata: json_column(row, "metadata")?,
            created_at: column(row, "created_at")?,
            updated_at: column(row, "updated_at")?,
        })
    };
    decode().map_err(|message| StoreError::Corrupt { what: "run", id: format!("{session_id}/{run_id}"), message })
}

/// Parses the `messages` column: a [`VersionedMessages`] document whose
/// version this build can read.
fn messages_of(text: &str) -> Result<Vec<Message>, String> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        version: u32,
        #[serde(borrow)]
        messages: &'a RawValue,
    }
    let envelope: Envelope<'_> = serde_json::from_str(text).map_err(|err| format!("column `messages`: {err}"))?;
    if envelope.version > MESSAGE_FORMAT_VERSION {
        return Err(format!(
            "messages are in format version {}, newer than the {MESSAGE_FORMAT_VERSION} this build reads",
            envelope.version
        ));
    }
    json(envelope.messages.get(), "messages")
}

/// Decodes a memory row; the columns are those of `MEMORY_COLUMNS`.
pub(crate) fn memory<R>(row: &R) -> Result<UserMemory, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> JsonColumn: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let id: String = column(row, "memory_id").unwrap_or_else(|_| "<unreadable id>".to_owned());
    let decode = || -> Result<UserMemory, String> {
        Ok(UserMemory {
            memory_id: id.clone(),
            memory: column(row, "memory")?,
            topics: json_column(row, "topics")?,
            user_id: column(row, "user_id")?,
            agent_id: column(row, "agent_id")?,
            team_id: column(row, "team_id")?,
            input: column(row, "input")?,
            created_at: column(row, "created_at")?,
            updated_at: column(row, "updated_at")?,
        })
    };
    decode().map_err(|message| StoreError::Corrupt { what: "memory", id, message })
}

/// Decodes an eval run row; the columns are those of `EVAL_COLUMNS`.
pub(crate) fn eval_run<R>(row: &R) -> Result<EvalRun, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> JsonColumn: Decode<'r, R::Database> + Type<R::Database>,
    &'static str: ColumnIndex<R>,
{
    let id: String = column(row, "id").unwrap_or_else(|_| "<unreadable id>".to_owned());
    let decode = || -> Result<EvalRun, String> {
        let eval_type: String = column(row, "eval_type")?;
        Ok(EvalRun {
            id: id.clone(),
            eval_type: EvalType::parse(&eval_type).ok_or_else(|| format!("unknown eval type `{eval_type}`"))?,
            name: column(row, "name")?,
            agent_id: column(row, "agent_id")?,
            team_id: column(row, "team_id")?,
            workflow_id: column(row, "workflow_id")?,
            model_id: column(row, "model_id")?,
            model_provider: column(row, "model_provider")?,
            evaluated_component_name: column(row, "evaluated_component_name")?,
            eval_input: json_column(row, "eval_input")?,
            eval_data: json_column(row, "eval_data")?,
            created_at: column(row, "created_at")?,
            updated_at: column(row, "updated_at")?,
        })
    };
    decode().map_err(|message| StoreError::Corrupt { what: "eval run", id, message })
}

/// Decodes the rows of a list, skipping (and logging) the ones that are corrupt.
pub(crate) fn decode_list<R, T>(rows: &[R], decode: impl Fn(&R) -> Result<T, StoreError>) -> Vec<T> {
    rows.iter()
        .filter_map(|row| match decode(row) {
            Ok(item) => Some(item),
            Err(err) => {
                tracing::warn!(error = %err, "skipping a corrupt row in a list");
                None
            }
        })
        .collect()
}

/// A page of decoded rows.
pub(crate) fn page<T>(items: Vec<T>, total: i64, limit: Option<u32>, page: Option<u32>) -> Page<T> {
    Page { items, total: u64::try_from(total).unwrap_or(0), page: page.unwrap_or(1).max(1), limit }
}

/// The `LIMIT` and `OFFSET` of a page; `None` when unpaged.
pub(crate) fn limit_offset(limit: Option<u32>, page: Option<u32>) -> Option<(i64, i64)> {
    let limit = i64::from(limit?);
    let page = i64::from(page.unwrap_or(1).max(1));
    Some((limit, (page - 1) * limit))
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern matching `needle` anywhere.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Checks a Postgres schema name before it is put into SQL text.
#[cfg(feature = "postgres")]
pub(crate) fn check_identifier(name: &str) -> Result<&str, StoreError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(name)
    } else {
        Err(StoreError::Invalid(format!(
            "schema name `{name}` must be 1 to 63 ASCII letters, digits or underscores, not starting with a digit"
        )))
    }
}
