//! The AgentOS demo set: agents, a team and workflows over one session store, and the brain that plays their model offline.
//!
//! [`build`] makes, from a model factory and a session store:
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

use agent_core::{Agent, Model, SessionStore, Step, Team, Workflow};
use agent_memory::KnowledgeBase;

pub use offline::{OFFLINE_MODEL_ID, offline_model, respond as offline_respond};
pub use store::open_store;

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

/// Builds the demo components; `model` gives the model of each agent and
/// team leader, by its id.
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
/// let store = Arc::new(agent_core::InMemoryStore::new());
/// let demo = examples::demo::build(|_| Arc::new(examples::demo::offline_model()), store).await?;
/// let weather = demo.agents.iter().find(|agent| agent.id() == Some("weather-agent")).unwrap();
/// let output = weather.run("Weather in Paris?").await?;
/// assert_eq!(output.content, "Result: It is sunny and 21C in Paris.");
/// # Ok::<_, anyhow::Error>(()) }).unwrap();
/// ```
pub async fn build(model: impl Fn(&str) -> Arc<dyn Model>, store: Arc<dyn SessionStore>) -> anyhow::Result<Demo> {
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
    })
}

impl Demo {
    /// An AgentOS builder serving every component and the demo docs (on the
    /// `/knowledge` routes, as `demo-docs`), as `demo-os` ("Demo AgentOS") on
    /// the demo's store; add a security key or limits, then build.
    ///
    /// # Example
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    ///
    /// let store = examples::demo::open_store(None).await?;
    /// let demo = examples::demo::build(|_| Arc::new(examples::demo::offline_model()), store).await?;
    /// let os = demo.os_builder().security_key(Some("secret".into())).build()?;
    /// let _router = os.router(); // or os.serve(listener, shutdown)
    /// # Ok::<_, anyhow::Error>(()) }).unwrap();
    /// ```
    pub fn os_builder(&self) -> agent_os::AgentOsBuilder<()> {
        let mut builder = agent_os::AgentOs::builder()
            .id("demo-os")
            .name("Demo AgentOS")
            .store(self.store.clone())
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
