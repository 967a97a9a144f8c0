//! `ScriptedModel`: plays scripted responses and checks the calls it gets.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde_json::Value;

use super::{text_response, tool_calls_response};
use crate::model::{Model, ModelError, ModelErrorKind, ModelRequest, ModelResponse};

type Check = dyn Fn(&ModelRequest) -> Result<(), String> + Send + Sync;

/// One scripted model call: an optional check of the request and the answer.
pub struct Turn {
    check: Option<Box<Check>>,
    answer: Result<ModelResponse, ModelError>,
}

impl Turn {
    /// Answer with a response.
    pub fn respond(response: ModelResponse) -> Self {
        Self { check: None, answer: Ok(response) }
    }

    /// Answer with text.
    pub fn text(text: impl Into<String>) -> Self {
        Self::respond(text_response(text))
    }

    /// Answer with one tool call.
    pub fn tool_call(id: &str, name: &str, input: Value) -> Self {
        Self::respond(tool_calls_response([(id, name, input)]))
    }

    /// Answer with a model error.
    pub fn error(error: ModelError) -> Self {
        Self { check: None, answer: Err(error) }
    }

    /// Check the request before answering; a failed check is reported by
    /// [`ScriptedModel::assert_complete`] and answered with an error.
    #[must_use]
    pub fn expect(mut self, check: impl Fn(&ModelRequest) -> Result<(), String> + Send + Sync + 'static) -> Self {
        self.check = Some(Box::new(check));
        self
    }
}

/// A model that answers with scripted turns in order.
///
/// A call beyond the script, or a failed [`Turn::expect`] check, is answered
/// with a model error and recorded; [`ScriptedModel::assert_complete`] panics
/// on recorded failures and on turns never used. Clones share the script.
#[derive(Clone, Default)]
pub struct ScriptedModel {
    state: Arc<Mutex<ScriptState>>,
}

#[derive(Default)]
struct ScriptState {
    turns: VecDeque<Turn>,
    requests: Vec<ModelRequest>,
    failures: Vec<String>,
}

impl ScriptedModel {
    /// A model that plays these turns.
    pub fn new(turns: impl IntoIterator<Item = Turn>) -> Self {
        let state = ScriptState { turns: turns.into_iter().collect(), ..ScriptState::default() };
        Self { state: Arc::new(Mutex::new(state)) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ScriptState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.state().requests.clone()
    }

    /// Turns not played yet.
    pub fn remaining(&self) -> usize {
        self.state().turns.len()
    }

    /// Panics if a call was unexpected, a check failed, or a turn was not used.
    ///
    /// # Panics
    ///
    /// That is its purpose: call it at the end of a test.
    pub fn assert_complete(&self) {
        let state = self.state();
        assert!(state.failures.is_empty(), "scripted model failures: {:#?}", state.failures);
        assert!(state.turns.is_empty(), "scripted model: {} expected call(s) never came", state.turns.len());
    }
}

#[async_trait]
impl Model for ScriptedModel {
    fn id(&self) -> &str {
        "scripted"
    }

    fn provider(&self) -> &str {
        "test"
    }

    async fn request(&self, request: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let mut state = self.state();
        state.requests.push(request.clone());
        let call = state.requests.len();
        let Some(step) = state.turns.pop_front() else {
            let message = format!("scripted model: unexpected call #{call}");
            state.failures.push(message.clone());
            return Err(ModelError::new(ModelErrorKind::Other, message));
        };
        if let Some(check) = &step.check
            && let Err(problem) = check(request)
        {
            let message = format!("scripted model: call #{call} failed its check: {problem}");
            state.failures.push(message.clone());
            return Err(ModelError::new(ModelErrorKind::Other, message));
        }
        step.answer
    }
}
