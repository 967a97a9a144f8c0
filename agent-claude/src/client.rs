//! The `Claude` facade: requests built and checked, sent through the fallback policy and the transport; the `Model` impl.
//!
//! The top layer. Arrows point down only: facade → fallback policy →
//! transport → request building and rules.

use std::sync::Arc;

use agent_core::{Model, ModelError, ModelEventStream, ModelRequest, ModelResponse};

use crate::catalog::{self, ModelCapabilities};
use crate::error::Result;
use crate::fallback::{self, FallbackPolicy};
use crate::rules;
use crate::system::{self, SystemMessages};
use crate::transport::Transport;
use crate::wire::request::{self, RequestDefaults, WireRequest};

/// Claude through the Messages API: an [`agent_core::Model`].
///
/// Cheap to clone; clones share the connection pool. The client keeps no
/// state between requests: everything a request needs travels in it (a
/// `pause_turn` resume is [`ModelRequest::resume`], a container id is in the
/// conversation, see [`Container`](crate::Container)).
///
/// # Example
///
/// ```
/// use agent_claude::Claude;
///
/// let claude = Claude::builder().api_key("sk-ant-test").base_url("http://127.0.0.1:9").build()?;
/// assert_eq!(agent_core::Model::provider(&claude), "anthropic");
/// # Ok::<(), agent_claude::Error>(())
/// ```
#[derive(Clone)]
pub struct Claude {
    inner: Arc<Inner>,
}

struct Inner {
    defaults: RequestDefaults,
    transport: Transport,
    fallback: FallbackPolicy,
}

impl std::fmt::Debug for Claude {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claude")
            .field("model", &self.inner.defaults.model)
            .field("base_url", &self.inner.transport.base_url())
            .finish_non_exhaustive()
    }
}

impl Claude {
    pub(crate) fn new(defaults: RequestDefaults, transport: Transport, fallback: FallbackPolicy) -> Self {
        Self { inner: Arc::new(Inner { defaults, transport, fallback }) }
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The builder's betas as a header value, for calls without a request body.
    pub(crate) fn default_betas(&self) -> Option<String> {
        let betas = &self.inner.defaults.betas;
        (!betas.is_empty()).then(|| betas.join(","))
    }

    /// The catalog entry of the configured model, when the catalog knows it.
    pub fn capabilities(&self) -> Option<&'static ModelCapabilities> {
        catalog::lookup(&self.inner.defaults.model)
    }

    /// Builds the wire request and checks the rules of the API.
    pub(crate) fn prepare(&self, request: &ModelRequest, stream: bool, system: SystemMessages) -> Result<WireRequest> {
        let mut wire = request::build(&self.inner.defaults, request, stream, system)?;
        self.inner.fallback.prepare(&mut wire);
        rules::check(&wire)?;
        Ok(wire)
    }

    /// A whole response. A model that refuses mid-conversation system
    /// messages gets the request again with their `<system-reminder>` form.
    async fn respond(&self, request: &ModelRequest) -> Result<ModelResponse> {
        let transport = &self.inner.transport;
        let deadline = transport.deadline();
        let wire = self.prepare(request, false, SystemMessages::Native)?;
        match fallback::request(transport, &self.inner.fallback, &wire, deadline).await {
            Err(err) if wire.system_messages && system::is_unsupported(&err) => {
                tracing::info!(model = %wire.model, "the model takes no system messages; sending them as reminders");
                let wire = self.prepare(request, false, SystemMessages::Reminder)?;
                fallback::request(transport, &self.inner.fallback, &wire, deadline).await
            }
            other => other,
        }
    }

    /// A streamed response, with the same system-message fallback.
    async fn open_stream(&self, request: &ModelRequest) -> Result<ModelEventStream> {
        let transport = &self.inner.transport;
        let deadline = transport.deadline();
        let wire = self.prepare(request, true, SystemMessages::Native)?;
        let uses_system = wire.system_messages;
        match fallback::stream::stream(transport, &self.inner.fallback, wire, deadline).await {
            Err(err) if uses_system && system::is_unsupported(&err) => {
                let wire = self.prepare(request, true, SystemMessages::Reminder)?;
                fallback::stream::stream(transport, &self.inner.fallback, wire, deadline).await
            }
            other => other,
        }
    }
}

#[async_trait::async_trait]
impl Model for Claude {
    fn id(&self) -> &str {
        &self.inner.defaults.model
    }

    fn provider(&self) -> &str {
        "anthropic"
    }

    fn pricing(&self) -> Option<agent_core::ModelPricing> {
        catalog::pricing(&self.inner.defaults.model)
    }

    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        Ok(self.respond(request).await?)
    }

    async fn stream(&self, request: &ModelRequest) -> Result<ModelEventStream, ModelError> {
        Ok(self.open_stream(request).await?)
    }
}
