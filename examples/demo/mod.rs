//! The AgentOS demo set: agents, a team and workflows over one session store, and the brain that plays their model offline.
//!
//! [`build`] makes, from a model factory and the demo database ([`open_store`]):
//!
//! | id | what |
//! |---|---|
//! | `weather-agent` | "Weather Agent": `get_weather(city)` |
//! | `approval-agent` | "Approval Agent": `delete_city(city)`, which needs the user's confirmation, so a run pauses until it is continued |
//! | `writer-agent` | "Writer Agent": writes answers, searching the demo docs ([`knowledge::docs`]) |
//! | `demo-team` | "Demo Team": a leader delegating to `weather-agent` and `approval-agent` (a deletion pauses the team) |
//! | `demo-workflow` | "Demo Workflow": `research` (`weather-agent`), then `write` (`writer-agent`) |
//! | `approval-workflow` | "Approval Workflow": `approve` (`approval-agent`, which pauses the workflow), then `write` (`writer-agent`) |
//!
//! [`Demo::os_builder`] serves them with the demo docs on the knowledge
//! routes, the user memories of the same database, a memory model for
//! `POST /optimize-memories`, and `anthropic:<model-id>` model names
//! resolved to Claude clients.
//!
//! [`brain::decide`] plays the model: as an offline `Model`
//! ([`offline_model`], what [`model_from_env`] picks without an API key),
//! and behind the strict fake Messages API ([`messages_api`]) so the real
//! Claude client runs too.

pub mod brain;
pub mod knowledge;
pub mod messages_api;
mod offline;
mod store;
pub mod tools;

use std::sync::Arc;

use agent_core::memory::MemoryStore;
use agent_core::{Agent, Model, SessionStore, Step, Team, Workflow};
use agent_memory::KnowledgeBase;

pub use offline::{OFFLINE_MODEL_ID, offline_model, respond as offline_respond};
pub use store::{Stores, open_store};

/// Makes the Claude model with a model id (`claude-sonnet-4-5`), or says why it cannot.
pub type ClaudeFactory = Arc<dyn Fn(&str) -> Result<Arc<dyn Model>, String> + Send + Sync>;

/// The components of the demo AgentOS.
#[derive(Clone)]
pub struct Demo {
    /// `weather-agent`, `approval-agent`, `writer-agent`.
    pub agents: Vec<Agent>,
    /// `demo-team`.
    pub teams: Vec<Team>,
    /// `demo-workflow`, `approval-workflow`.
    pub workflows: Vec<Workflow>,
    /// The docs the writer searches.
    pub knowledge: KnowledgeBase,
    /// The session store every component saves to.
    pub store: Arc<dyn SessionStore>,
    /// The user memories, in the same database.
    pub memories: Arc<dyn MemoryStore>,
    /// The eval runs, in the same database.
    pub evals: Arc<dyn agent_core::eval::EvalStore>,
    /// The traces, in the same database.
    pub traces: Arc<dyn agent_core::trace::TraceStore>,
    /// The model that optimizes memories when a request names none.
    pub memory_model: Arc<dyn Model>,
    /// What `anthropic:<model-id>` in a request becomes (default [`claude_from_env`]).
    pub claude: ClaudeFactory,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids = |ids: Vec<&str>| ids.join(", ");
        f.debug_struct("Demo")
            .field("agents", &ids(self.agents.iter().map(|agent| agent.id().unwrap_or("")).collect()))
            .field("teams", &ids(self.teams.iter().map(Team::id).collect()))
            .field("workflows", &ids(self.workflows.iter().map(Workflow::id).collect()))
            .finish_non_exhaustive()
    }
}

/// Builds the demo components over `stores`; `model` gives the model of
/// each agent and team leader by its id, and of the memory optimizer
/// (`memory`).
///
/// # Errors
///
/// When the docs cannot be indexed or a component's settings are invalid.
///
/// # Example
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
///
/// let stores = examples::demo::open_store(None).await?;
/// let demo = examples::demo::build(|_| Arc::new(examples::demo::offline_model()), stores).await?;
/// let weather = demo.agents.iter().find(|agent| agent.id() == Some("weather-agent")).unwrap();
/// let output = weather.run("Weather in Paris?").await?;
/// assert_eq!(output.content, "Result: It is sunny and 21C in Paris.");
/// # Ok::<_, anyhow::Error>(()) }).unwrap();
/// ```
pub async fn build(model: impl Fn(&str) -> Arc<dyn Model>, stores: Stores) -> anyhow::Result<Demo> {
    let Stores { sessions: store, memories, evals, traces } = stores;
    let knowledge = knowledge::docs().await?;
    let weather = Agent::builder(model("weather-agent"))
        .id("weather-agent")
        .name("Weather Agent")
        .description("Answers questions about the weather in a city.")
        .instructions("You answer questions about the weather. Use `get_weather` for the city asked about.")
        .tool(tools::GetWeather)
        .store(store.clone())
        .build()?;
    let approval = Agent::builder(model("approval-agent"))
        .id("approval-agent")
        .name("Approval Agent")
        .description("Deletes saved cities, each deletion approved by the user.")
        .instructions("You manage the user's saved cities. Delete a city with `delete_city` when asked.")
        .tool(tools::DeleteCity)
        .store(store.clone())
        .build()?;
    let writer = Agent::builder(model("writer-agent"))
        .id("writer-agent")
        .name("Writer Agent")
        .description("Writes short answers, looking things up in the demo docs.")
        .instructions("You write short, clear answers. Search the docs when asked about them.")
        .knowledge(Arc::new(knowledge.clone()))
        .store(store.clone())
        .build()?;
    let team = Team::builder(model("demo-team"))
        .id("demo-team")
        .name("Demo Team")
        .description("Delegates weather questions and deletions to its members.")
        .member(weather.clone())
        .member(approval.clone())
        .store(store.clone())
        .build()?;
    let research_then_write = Workflow::builder("demo-workflow")
        .name("Demo Workflow")
        .description("Researches the weather, then writes it up.")
        .step(Step::run("research", weather.clone()))
        .step(Step::run("write", writer.clone()))
        .store(store.clone())
        .build()?;
    let approve_then_write = Workflow::builder("approval-workflow")
        .name("Approval Workflow")
        .description("Deletes a city once the user approves, then writes up what happened.")
        .step(Step::run("approve", approval.clone()))
        .step(Step::run("write", writer.clone()))
        .store(store.clone())
        .build()?;
    Ok(Demo {
        agents: vec![weather, approval, writer],
        teams: vec![team],
        workflows: vec![research_then_write, approve_then_write],
        knowledge,
        store,
        memories,
        evals,
        traces,
        memory_model: model("memory"),
        claude: Arc::new(claude_from_env),
    })
}

impl Demo {
    /// The demo with `claude` making the models `anthropic:<model-id>`
    /// names (in `POST /optimize-memories`).
    #[must_use]
    pub fn with_claude(
        mut self,
        claude: impl Fn(&str) -> Result<Arc<dyn Model>, String> + Send + Sync + 'static,
    ) -> Self {
        self.claude = Arc::new(claude);
        self
    }

    /// An AgentOS builder serving every component and the demo docs (on the
    /// `/knowledge` routes, as `demo-docs`), as `demo-os` ("Demo AgentOS") on
    /// the demo's store, with its memories, memory model and `anthropic`
    /// models; add a security key or limits, then build.
    ///
    /// # Example
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    ///
    /// let stores = examples::demo::open_store(None).await?;
    /// let demo = examples::demo::build(|_| Arc::new(examples::demo::offline_model()), stores).await?;
    /// let os = demo.os_builder().security_key(Some("secret".into())).build()?;
    /// let _router = os.router(); // or os.serve(listener, shutdown)
    /// # Ok::<_, anyhow::Error>(()) }).unwrap();
    /// ```
    pub fn os_builder(&self) -> agent_os::AgentOsBuilder<()> {
        let claude = self.claude.clone();
        let mut builder = agent_os::AgentOs::builder()
            .id("demo-os")
            .name("Demo AgentOS")
            .store(self.store.clone())
            .memory_store(self.memories.clone())
            .eval_store(self.evals.clone())
            .trace_store(self.traces.clone())
            .memory_model(self.memory_model.clone())
            .models(move |provider, model_id| resolve(&claude, provider, model_id))
            .knowledge(self.knowledge.clone());
        for agent in &self.agents {
            builder = builder.agent(agent.clone());
        }
        for team in &self.teams {
            builder = builder.team(team.clone());
        }
        for workflow in &self.workflows {
            builder = builder.workflow(workflow.clone());
        }
        builder
    }
}

/// The model a request's `provider:model-id` names: `anthropic` models from `claude`, no other provider.
fn resolve(claude: &ClaudeFactory, provider: &str, model_id: &str) -> Result<Arc<dyn Model>, String> {
    if provider.eq_ignore_ascii_case("anthropic") {
        claude(model_id)
    } else {
        Err(format!("unknown model provider `{provider}`: this AgentOS serves `anthropic` models"))
    }
}

/// The Claude model `model_id` when `ANTHROPIC_API_KEY` (or
/// `ANTHROPIC_AUTH_TOKEN`) is set, honouring `ANTHROPIC_BASE_URL`; the
/// offline brain otherwise, as for the demo's other models.
///
/// # Errors
///
/// The Claude client's construction error, as text.
pub fn claude_from_env(model_id: &str) -> Result<Arc<dyn Model>, String> {
    if !crate::has_anthropic_key() {
        return Ok(Arc::new(offline_model()));
    }
    let claude = agent_claude::Claude::builder().model(model_id).build().map_err(|err| err.to_string())?;
    Ok(Arc::new(claude))
}

/// Claude when `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`) is set
/// (honouring `ANTHROPIC_BASE_URL`, so `cargo run --example
/// fake_messages_api` can stand in for it), the offline brain otherwise.
///
/// # Errors
///
/// The Claude client's construction error.
pub fn model_from_env() -> Result<Arc<dyn Model>, agent_claude::Error> {
    crate::claude_or_offline(|| Arc::new(offline_model()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_models_resolve_and_other_providers_do_not() {
        let claude: ClaudeFactory = Arc::new(|model_id: &str| match model_id {
            "claude-sonnet-4-5" => Ok(Arc::new(offline_model()) as Arc<dyn Model>),
            other => Err(format!("no model `{other}`")),
        });
        assert!(resolve(&claude, "anthropic", "claude-sonnet-4-5").is_ok());
        assert!(resolve(&claude, "Anthropic", "claude-sonnet-4-5").is_ok());
        assert_eq!(resolve(&claude, "anthropic", "claude-x").err().as_deref(), Some("no model `claude-x`"));
        let refused = resolve(&claude, "openai", "gpt-4o").err().unwrap_or_default();
        assert!(refused.contains("unknown model provider `openai`"), "{refused}");
    }
}
