//! `FunctionModel`: a model driven by a closure.

use async_trait::async_trait;

use crate::model::{Model, ModelError, ModelRequest, ModelResponse};

type Respond = dyn Fn(&ModelRequest) -> Result<ModelResponse, ModelError> + Send + Sync;

/// A model whose every answer comes from a closure over the request.
///
/// # Example
///
/// ```
/// use agent_core::testing::{FunctionModel, text_response};
///
/// let model = FunctionModel::new(|request| {
///     Ok(text_response(format!("you sent {} messages", request.messages.len())))
/// });
/// # let _ = model;
/// ```
pub struct FunctionModel {
    id: String,
    respond: Box<Respond>,
}

impl FunctionModel {
    /// A model answering with `respond`.
    pub fn new(respond: impl Fn(&ModelRequest) -> Result<ModelResponse, ModelError> + Send + Sync + 'static) -> Self {
        Self { id: "function".to_owned(), respond: Box::new(respond) }
    }

    /// Reports this model id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }
}

impl std::fmt::Debug for FunctionModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionModel").field("id", &self.id).finish_non_exhaustive()
    }
}

#[async_trait]
impl Model for FunctionModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn provider(&self) -> &str {
        "test"
    }

    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        (self.respond)(request)
    }
}
