//! Tools built from closures, without the macro.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Tool, ToolDef, ToolError, ToolOutput, schema};
use crate::context::RunContext;

type Handler<D> = dyn Fn(RunContext<D>, Value) -> BoxFuture<'static, Result<ToolOutput, ToolError>> + Send + Sync;

/// A tool made from a closure.
///
/// # Example
///
/// ```
/// use agent_core::{FnTool, ToolError};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Add {
///     /// First addend.
///     a: i64,
///     /// Second addend.
///     b: i64,
/// }
///
/// let add = FnTool::<()>::new("add", "Adds two integers.", |_ctx, args: Add| async move {
///     Ok::<_, ToolError>(args.a + args.b)
/// });
/// assert_eq!(agent_core::Tool::def(&add).name, "add");
/// ```
pub struct FnTool<D = ()> {
    def: Arc<ToolDef>,
    handler: Arc<Handler<D>>,
}

impl<D: Send + Sync + 'static> FnTool<D> {
    /// A tool whose arguments are the fields of `A` (its schema comes from
    /// `schemars`) and whose result is any serializable value: strings are sent
    /// as text, everything else as JSON.
    pub fn new<A, T, F, Fut>(name: impl Into<String>, description: impl Into<String>, f: F) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        T: Serialize,
        F: Fn(RunContext<D>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ToolError>> + Send + 'static,
    {
        let def = ToolDef::new(name, description, schema::schema_for::<A>());
        let f = Arc::new(f);
        Self::raw(def, move |ctx, input| {
            let f = Arc::clone(&f);
            async move {
                let args: A = serde_json::from_value(input).map_err(ToolError::invalid_arguments)?;
                let value = f(ctx, args).await?;
                ToolOutput::from_serialize(&value)
            }
        })
    }

    /// A tool from a definition and a closure over raw JSON arguments.
    pub fn raw<F, Fut>(def: ToolDef, f: F) -> Self
    where
        F: Fn(RunContext<D>, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
    {
        Self { def: Arc::new(def), handler: Arc::new(move |ctx, input| Box::pin(f(ctx, input))) }
    }

    /// Changes the definition's settings (confirmation, timeout, ...).
    #[must_use]
    pub fn with_def(mut self, edit: impl FnOnce(ToolDef) -> ToolDef) -> Self {
        self.def = Arc::new(edit((*self.def).clone()));
        self
    }
}

#[async_trait]
impl<D: Send + Sync + 'static> Tool<D> for FnTool<D> {
    fn def(&self) -> Arc<ToolDef> {
        Arc::clone(&self.def)
    }

    async fn call(&self, ctx: &RunContext<D>, input: Value) -> Result<ToolOutput, ToolError> {
        (self.handler)(ctx.clone(), input).await
    }
}
