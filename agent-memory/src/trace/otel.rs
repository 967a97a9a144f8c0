//! OpenTelemetry export (feature `otel`): an OTLP/HTTP exporter and the `tracing-opentelemetry` layer, to install beside [`TraceLayer`](super::TraceLayer).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::registry::LookupSpan;

/// Why the exporter could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the OpenTelemetry exporter: {0}")]
pub struct OtelError(#[from] opentelemetry_otlp::ExporterBuildError);

/// The tracer provider behind an [`OtelExport`] layer: keep it, and call
/// [`OtelExport::shutdown`] before the process exits so the last batch is sent.
#[derive(Debug, Clone)]
pub struct OtelExport {
    provider: SdkTracerProvider,
}

impl OtelExport {
    /// Sends the spans still buffered and stops the exporter.
    ///
    /// # Errors
    ///
    /// The exporter's error, when the last export failed.
    pub fn shutdown(&self) -> Result<(), opentelemetry_sdk::error::OTelSdkError> {
        self.provider.shutdown()
    }

    /// The provider, for tracers of your own.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }
}

/// An OTLP/HTTP exporter to `endpoint` (such as
/// `http://localhost:4318/v1/traces`) behind a batch processor, and the
/// `tracing-opentelemetry` layer that feeds it. The loop's spans carry
/// `otel.name` and `otel.status_code`, so they arrive with their display
/// names and statuses.
///
/// # Example
///
/// ```no_run
/// use std::sync::Arc;
///
/// use agent_core::trace::InMemoryTraceStore;
/// use agent_memory::TraceLayer;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let (otel, export) = agent_memory::trace::otel::layer("http://localhost:4318/v1/traces", "my-agents")?;
/// let subscriber =
///     tracing_subscriber::registry().with(TraceLayer::spawn(Arc::new(InMemoryTraceStore::new()))).with(otel);
/// tracing::subscriber::set_global_default(subscriber)?;
/// // ... run agents ...
/// export.shutdown()?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`OtelError`] when the exporter cannot be built.
pub fn layer<S>(endpoint: &str, service_name: &str) -> Result<(OpenTelemetryLayer<S, SdkTracer>, OtelExport), OtelError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(endpoint).build()?;
    let resource = Resource::builder().with_service_name(service_name.to_owned()).build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    let tracer = provider.tracer("agent-core");
    Ok((tracing_opentelemetry::layer().with_tracer(tracer), OtelExport { provider }))
}
