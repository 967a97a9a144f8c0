//! Runs in flight on this process: launched in their own tasks so a client that goes away cannot drop a run unsaved, cancellable by id, drained on shutdown.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use agent_core::PausedRun;
use futures::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::component::{Component, RunItem, RunSpec};
use crate::error::ApiError;

/// How many paused runs of store-less components are kept for a continue.
const PAUSED_KEPT: usize = 10_000;

/// How long runs get to be saved once they are cancelled at shutdown.
const SAVE_AFTER_CANCEL: Duration = Duration::from_secs(10);

/// The runs of this process.
#[derive(Default)]
pub(crate) struct Runs {
    live: Mutex<HashMap<String, CancellationToken>>,
    paused: Mutex<Paused>,
    tasks: TaskTracker,
    closing: CancellationToken,
}

/// Paused runs of components without a store, oldest first.
#[derive(Default)]
struct Paused {
    order: VecDeque<String>,
    runs: HashMap<String, (String, PausedRun)>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A launched run: what it yields.
pub(crate) struct Launched {
    pub(crate) items: UnboundedReceiver<RunItem>,
}

impl Runs {
    /// Launches a run in its own task. `cancel_on_disconnect`: when the
    /// receiver is dropped (the client went away), the run is cancelled;
    /// either way it runs to its end and is saved.
    pub(crate) fn launch(
        self: &Arc<Self>,
        component: Arc<dyn Component>,
        run_id: String,
        spec: RunSpec,
        cancel_on_disconnect: bool,
        kept: Option<PausedRun>,
    ) -> Result<Launched, ApiError> {
        let runs = self.clone();
        let keep_paused = component.store().is_none();
        let component_id = component.id().to_owned();
        let refuse = |err: ApiError, kept: Option<PausedRun>| {
            if let Some(paused) = kept {
                self.keep_paused(&component_id, paused);
            }
            Err(err)
        };
        if self.closing.is_cancelled() {
            return refuse(ApiError::unavailable("the server is shutting down"), kept);
        }
        let token = spec.cancel.clone();
        let mut stream = match component.launch(spec) {
            Ok(stream) => stream,
            Err(err) => return refuse(err, kept),
        };
        lock(&self.live).insert(run_id.clone(), token.clone());
        let (sender, items) = unbounded_channel();
        self.tasks.spawn(async move {
            let mut connected = true;
            loop {
                let item = if connected && cancel_on_disconnect {
                    tokio::select! {
                        item = stream.next() => item,
                        () = sender.closed() => {
                            connected = false;
                            token.cancel();
                            continue;
                        }
                    }
                } else {
                    stream.next().await
                };
                let Some(item) = item else { break };
                if keep_paused && let RunItem::Done(result) = &item {
                    match (result, &kept) {
                        (Ok(output), _) => {
                            if let Some(paused) = &output.paused {
                                runs.keep_paused(&component_id, paused.clone());
                            }
                        }
                        // A continue refused before it ran leaves the run paused.
                        (Err(err), Some(paused)) if ApiError::is_request_error(err) => {
                            runs.keep_paused(&component_id, paused.clone());
                        }
                        (Err(_), _) => {}
                    }
                }
                if connected && sender.send(item).is_err() {
                    connected = false;
                    if cancel_on_disconnect {
                        token.cancel();
                    }
                }
            }
            lock(&runs.live).remove(&run_id);
        });
        Ok(Launched { items })
    }

    /// Cancels a run in flight here; `false` when it is not.
    pub(crate) fn cancel(&self, run_id: &str) -> bool {
        match lock(&self.live).get(run_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Whether a run is in flight here.
    pub(crate) fn is_live(&self, run_id: &str) -> bool {
        lock(&self.live).contains_key(run_id)
    }

    fn keep_paused(&self, component_id: &str, paused: PausedRun) {
        let mut kept = lock(&self.paused);
        let run_id = paused.run_id().to_owned();
        if kept.runs.insert(run_id.clone(), (component_id.to_owned(), paused)).is_none() {
            kept.order.push_back(run_id);
        }
        while kept.order.len() > PAUSED_KEPT {
            if let Some(oldest) = kept.order.pop_front() {
                kept.runs.remove(&oldest);
            }
        }
    }

    /// Takes the kept paused run `run_id` of `component_id` (store-less components).
    pub(crate) fn take_paused(&self, component_id: &str, run_id: &str) -> Option<PausedRun> {
        let mut kept = lock(&self.paused);
        match kept.runs.get(run_id) {
            Some((owner, _)) if owner == component_id => {}
            _ => return None,
        }
        kept.order.retain(|id| id != run_id);
        kept.runs.remove(run_id).map(|(_, paused)| paused)
    }

    /// Puts back a paused run whose continue was refused before it started.
    pub(crate) fn restore_paused(&self, component_id: &str, paused: PausedRun) {
        self.keep_paused(component_id, paused);
    }

    /// Stops taking runs, gives those in flight `grace` to finish, cancels
    /// the rest and waits (bounded) until they are saved.
    pub(crate) async fn close(&self, grace: Duration) {
        self.closing.cancel();
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait()).await.is_ok() {
            return;
        }
        let live: Vec<CancellationToken> = lock(&self.live).values().cloned().collect();
        tracing::info!(runs = live.len(), "cancelling the runs still in flight at shutdown");
        for token in live {
            token.cancel();
        }
        if tokio::time::timeout(SAVE_AFTER_CANCEL, self.tasks.wait()).await.is_err() {
            tracing::warn!("runs were still saving when the server stopped");
        }
    }
}
