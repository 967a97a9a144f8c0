//! How agents use a knowledge base: the `search_knowledge` tool (agentic
//! retrieval) and a context section with the top results (automatic context).

use std::fmt::Write as _;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{DEFAULT_TOP_K, Knowledge, KnowledgeError, SearchHit, SearchQuery};
use crate::context::RunContext;
use crate::tool::{FnTool, ToolError, Toolkit};

/// The most results one `search_knowledge` call returns, whatever the model asks.
pub const MAX_TOOL_TOP_K: usize = 20;

const TOOLKIT_INSTRUCTIONS: &str = "You have a knowledge base of the user's documents. Before answering a \
question its documents may cover, call `search_knowledge` with a short query (and `filters` on metadata when \
the user narrows the scope). Answer from the results, cite each fact with the number of the result it comes \
from, such as [1], and name the source. If nothing relevant is found, say so rather than guessing.";

/// Arguments of `search_knowledge`.
#[derive(Deserialize, JsonSchema)]
struct SearchKnowledge {
    /// What to look for: a question or keywords.
    query: String,
    /// How many results to return (default 5, at most 20).
    #[serde(default)]
    top_k: Option<usize>,
    /// Metadata the results must match, such as {"category": "billing"}; a list
    /// value matches any of its elements.
    #[serde(default)]
    filters: Option<Map<String, Value>>,
}

/// A toolkit with one tool, `search_knowledge`, that searches `knowledge`
/// (hybrid mode) and answers with numbered results and their sources, plus
/// instructions telling the model to cite them.
///
/// An empty query, a bad filter or an embedder failure goes back to the
/// model as a retryable error; a store failure stops the run.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use agent_core::knowledge::{Knowledge, KnowledgeError, SearchHit, SearchQuery, knowledge_tools};
///
/// struct Faq;
/// #[async_trait::async_trait]
/// impl Knowledge for Faq {
///     async fn search(&self, _query: &SearchQuery) -> Result<Vec<SearchHit>, KnowledgeError> {
///         Ok(vec![SearchHit::new("1", "faq", "faq.md", "Opening hours are 9 to 5.")])
///     }
/// }
///
/// let toolkit = knowledge_tools::<()>(Arc::new(Faq));
/// assert_eq!(toolkit.tools()[0].def().name, "search_knowledge");
/// ```
pub fn knowledge_tools<D: Send + Sync + 'static>(knowledge: Arc<dyn Knowledge>) -> Toolkit<D> {
    let tool = FnTool::new(
        "search_knowledge",
        "Searches the knowledge base and returns the most relevant passages, numbered, each with its source.",
        move |_ctx: RunContext<D>, args: SearchKnowledge| {
            let knowledge = Arc::clone(&knowledge);
            async move {
                if args.query.trim().is_empty() {
                    return Err(ToolError::retry("the query is empty; say what to look for"));
                }
                let top_k = args.top_k.unwrap_or(DEFAULT_TOP_K).clamp(1, MAX_TOOL_TOP_K);
                let query = SearchQuery::new(args.query).top_k(top_k).filters(args.filters.unwrap_or_default());
                let hits = knowledge.search(&query).await.map_err(tool_error)?;
                Ok(format_results(&query.text, &hits))
            }
        },
    );
    Toolkit::new("knowledge").instructions(TOOLKIT_INSTRUCTIONS).tool(tool)
}

fn tool_error(err: KnowledgeError) -> ToolError {
    match err {
        KnowledgeError::Store(err) => ToolError::fatal(format!("knowledge search failed: {err}")),
        other => ToolError::retry(format!("knowledge search failed: {other}")),
    }
}

fn format_results(query: &str, hits: &[SearchHit]) -> String {
    if hits.is_empty() {
        return format!("No results in the knowledge base for \"{query}\".");
    }
    let mut out = format!("{} results for \"{query}\". Cite them by number, such as [1].\n", hits.len());
    write_hits(&mut out, hits);
    out
}

fn write_hits(out: &mut String, hits: &[SearchHit]) {
    for (number, hit) in hits.iter().enumerate() {
        let _ = write!(out, "\n[{}] {}", number + 1, citation(hit));
        let _ = write!(out, "\n{}\n", hit.text.trim());
    }
}

/// How a hit is named in citations: name, section, chunk and source.
fn citation(hit: &SearchHit) -> String {
    let mut label = hit.name.clone();
    if let Some(section) = hit.metadata.get("section").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        let _ = write!(label, " › {section}");
    }
    let _ = write!(label, " (chunk {}", hit.chunk);
    if hit.source != hit.name && !hit.source.is_empty() {
        let _ = write!(label, ", source: {}", hit.source);
    }
    label.push(')');
    label
}

/// The text an agent adds to the model's context for automatic retrieval:
/// the hits numbered with their sources, inside `<knowledge>` tags, with a
/// line asking the model to cite them. Empty when there are no hits.
///
/// # Example
///
/// ```
/// use agent_core::knowledge::SearchHit;
/// use agent_core::support::context_section;
///
/// let section = context_section(&[SearchHit::new("1", "c1", "faq.md", "Open 9 to 5.")]);
/// assert!(section.starts_with("<knowledge>"));
/// assert!(section.contains("[1] faq.md (chunk 0)\nOpen 9 to 5."));
/// assert_eq!(context_section(&[]), "");
/// ```
pub fn context_section(hits: &[SearchHit]) -> String {
    if hits.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<knowledge>\nPassages from the knowledge base that may answer the user, best match first. \
         Answer from them when they are relevant and cite them by number, such as [1].\n",
    );
    write_hits(&mut out, hits);
    out.push_str("</knowledge>");
    out
}

/// Searches `knowledge` and returns the [`context_section`] of the results:
/// what an agent with automatic knowledge context adds before calling the
/// model (`query` is usually `SearchQuery::new(user_input).top_k(n)`).
///
/// # Errors
///
/// The search's error.
pub async fn retrieve_context(knowledge: &dyn Knowledge, query: &SearchQuery) -> Result<String, KnowledgeError> {
    if query.text.trim().is_empty() {
        return Ok(String::new());
    }
    Ok(context_section(&knowledge.search(query).await?))
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use serde_json::json;

    use super::*;
    use crate::tool::ToolOutput;

    struct Fixed(Result<Vec<SearchHit>, fn() -> KnowledgeError>);

    #[async_trait]
    impl Knowledge for Fixed {
        async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, KnowledgeError> {
            match &self.0 {
                Ok(hits) => Ok(hits.iter().take(query.top_k).cloned().collect()),
                Err(make) => Err(make()),
            }
        }
    }

    fn hit() -> SearchHit {
        let mut hit = SearchHit::new("ch-1", "co-1", "guide.md", "  Use the blue button.  ");
        hit.source = "docs/guide.md".into();
        hit.chunk = 2;
        hit.metadata.insert("section".into(), json!("Setup"));
        hit
    }

    async fn call(knowledge: Fixed, input: Value) -> Result<ToolOutput, ToolError> {
        let toolkit = knowledge_tools::<()>(Arc::new(knowledge));
        toolkit.tools()[0].call(&RunContext::new(()), input).await
    }

    #[tokio::test]
    async fn tool_results_are_numbered_with_sources() {
        let output = call(Fixed(Ok(vec![hit()])), json!({"query": "button"})).await;
        expect_test::expect![[r#"
            Ok(
                ToolOutput {
                    content: Text(
                        "1 results for \"button\". Cite them by number, such as [1].\n\n[1] guide.md › Setup (chunk 2, source: docs/guide.md)\nUse the blue button.\n",
                    ),
                },
            )
        "#]]
        .assert_debug_eq(&output);
    }

    #[tokio::test]
    async fn empty_query_and_embedder_failures_are_retries_store_failures_fatal() {
        let empty = call(Fixed(Ok(vec![])), json!({"query": " "})).await;
        assert!(matches!(empty, Err(ToolError::Retry(_))));
        let embedder = call(Fixed(Err(|| KnowledgeError::Embedder("503".into()))), json!({"query": "x"})).await;
        assert!(matches!(embedder, Err(ToolError::Retry(message)) if message.contains("503")));
        let store =
            call(Fixed(Err(|| KnowledgeError::Store(crate::StoreError::Invalid("x".into())))), json!({"query": "x"}));
        assert!(matches!(store.await, Err(ToolError::Fatal(_))));
    }

    #[tokio::test]
    async fn no_hits_is_an_answer_not_an_error() {
        let output = call(Fixed(Ok(vec![])), json!({"query": "nothing"})).await;
        assert_eq!(output, Ok(ToolOutput::text("No results in the knowledge base for \"nothing\".")));
    }

    #[tokio::test]
    async fn retrieve_context_skips_empty_input() {
        let knowledge = Fixed(Ok(vec![hit()]));
        assert_eq!(retrieve_context(&knowledge, &SearchQuery::new("  ")).await.ok(), Some(String::new()));
        let section = retrieve_context(&knowledge, &SearchQuery::new("button")).await.unwrap_or_default();
        assert!(section.contains("[1] guide.md › Setup (chunk 2, source: docs/guide.md)\nUse the blue button."));
        assert!(section.ends_with("</knowledge>"));
    }
}
