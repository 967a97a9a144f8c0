//! `Deps`: the dependencies each served run gets — shared values set on the server, or built from a request's `dependencies` field.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::ApiError;

type FromRequest<D> = dyn Fn(Option<&Map<String, Value>>) -> Result<D, String> + Send + Sync;

/// Where the runs of an [`AgentOs`](crate::AgentOs) get their deps `D` (the
/// `RunContext<D>` tools see).
///
/// [`Deps::shared`] gives every run the same value (a connection pool, a
/// client) and answers a request that sends `dependencies` with a 400: it
/// would otherwise be dropped silently. [`Deps::from_request`] builds the
/// deps of each run from the request's `dependencies` JSON object (absent
/// when not sent); its error message is answered as a 400.
///
/// # Example
///
/// ```
/// use agent_os::Deps;
///
/// #[derive(serde::Deserialize, Default)]
/// struct Tenant { tenant: String }
///
/// let deps = Deps::from_request(|json| match json {
///     Some(json) => serde_json::from_value::<Tenant>(json.clone().into()).map_err(|err| err.to_string()),
///     None => Ok(Tenant::default()),
/// });
/// # let _ = deps;
/// ```
pub struct Deps<D> {
    source: Source<D>,
}

enum Source<D> {
    Shared(Arc<D>),
    FromRequest(Arc<FromRequest<D>>),
}

impl<D> Clone for Deps<D> {
    fn clone(&self) -> Self {
        let source = match &self.source {
            Source::Shared(deps) => Source::Shared(deps.clone()),
            Source::FromRequest(build) => Source::FromRequest(build.clone()),
        };
        Self { source }
    }
}

impl<D> std::fmt::Debug for Deps<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source {
            Source::Shared(_) => "shared",
            Source::FromRequest(_) => "from_request",
        };
        f.debug_struct("Deps").field("source", &kind).finish()
    }
}

impl<D> Deps<D> {
    /// Every run gets `deps`.
    pub fn shared(deps: Arc<D>) -> Self {
        Self { source: Source::Shared(deps) }
    }

    /// Every run gets deps built from the request's `dependencies` object.
    pub fn from_request(
        build: impl Fn(Option<&Map<String, Value>>) -> Result<D, String> + Send + Sync + 'static,
    ) -> Self {
        Self { source: Source::FromRequest(Arc::new(build)) }
    }

    /// The deps of one run.
    pub(crate) fn resolve(&self, json: Option<&Map<String, Value>>) -> Result<Arc<D>, ApiError> {
        match &self.source {
            Source::Shared(deps) if json.is_none() => Ok(deps.clone()),
            Source::Shared(_) => Err(ApiError::bad_request(
                "this AgentOS does not take `dependencies` from requests: its runs' dependencies are set on the server",
            )),
            Source::FromRequest(build) => build(json)
                .map(Arc::new)
                .map_err(|message| ApiError::bad_request(format!("invalid dependencies: {message}"))),
        }
    }
}

impl Deps<()> {
    /// No deps.
    pub fn none() -> Self {
        Self::shared(Arc::new(()))
    }
}
