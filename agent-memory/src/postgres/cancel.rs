//! Cancel requests over `LISTEN`/`NOTIFY`: one listening connection per
//! store, shared by every `wait_cancel` of the process.
//!
//! `request_cancel` records the request and sends `NOTIFY agent_run_cancel`
//! with the run id in the same transaction. A background task holds one
//! pooled connection that `LISTEN`s while anyone waits, and fans the run ids
//! out to the waiters, which then check the stored flag. Waiters also check
//! every [`RECHECK`], in case a notification was lost while the listening
//! connection was being re-established.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_core::StoreError;
use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};

use super::schema::CANCEL_CHANNEL;
use crate::sql::{CancelSignal, CancelWatch};

/// The longest a waiter goes without checking the stored flag.
pub const RECHECK: Duration = Duration::from_secs(2);

/// How long a waiter waits for the listening connection before relying on
/// [`RECHECK`] alone.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the listening task looks whether anyone still waits.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Run ids in flight to the waiters; a lagging waiter just checks its flag.
const FAN_OUT: usize = 1024;

/// Tells every waiter to check: a notification may have been lost.
const CHECK_ALL: &str = "";

/// The store's listener: started by the first waiter, stopped when none is left.
pub(super) struct CancelHub {
    pool: PgPool,
    state: Arc<Mutex<Option<Listening>>>,
}

/// A running listening task: how to subscribe to it, and whether it listens yet.
#[derive(Clone)]
struct Listening {
    ids: broadcast::Sender<String>,
    ready: watch::Receiver<bool>,
}

impl CancelHub {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool, state: Arc::new(Mutex::new(None)) }
    }

    /// Subscribes to the running task, starting one if needed.
    fn subscribe(&self) -> (broadcast::Receiver<String>, watch::Receiver<bool>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(listening) = state.as_ref() {
            return (listening.ids.subscribe(), listening.ready.clone());
        }
        let (ids, receiver) = broadcast::channel(FAN_OUT);
        let (ready_sender, ready) = watch::channel(false);
        *state = Some(Listening { ids: ids.clone(), ready: ready.clone() });
        let guard = Stopped { state: Arc::clone(&self.state), ids: ids.clone() };
        tokio::spawn(listen(self.pool.clone(), ids, ready_sender, guard));
        (receiver, ready)
    }
}

/// Clears the hub's state when the listening task ends, however it ends
/// (also when its runtime shuts down and drops it).
struct Stopped {
    state: Arc<Mutex<Option<Listening>>>,
    ids: broadcast::Sender<String>,
}

impl Stopped {
    /// Whether nobody waits; if so, the hub forgets this task (under the
    /// lock, so no waiter subscribes to it meanwhile).
    fn idle(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if self.ids.receiver_count() > 0 {
            return false;
        }
        if state.as_ref().is_some_and(|listening| listening.ids.same_channel(&self.ids)) {
            *state = None;
        }
        true
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.as_ref().is_some_and(|listening| listening.ids.same_channel(&self.ids)) {
            *state = None;
        }
    }
}

/// The listening task: forwards notified run ids until nobody waits.
async fn listen(pool: PgPool, ids: broadcast::Sender<String>, ready: watch::Sender<bool>, stopped: Stopped) {
    let mut listener = match PgListener::connect_with(&pool).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for cancel requests; waiters poll instead");
            return;
        }
    };
    if let Err(err) = listener.listen(CANCEL_CHANNEL).await {
        tracing::warn!(error = %err, "cannot listen for cancel requests; waiters poll instead");
        return;
    }
    ready.send_replace(true);
    loop {
        match tokio::time::timeout(IDLE_CHECK, listener.try_recv()).await {
            Ok(Ok(Some(notification))) => {
                ids.send(notification.payload().to_owned()).ok();
            }
            // The connection was lost and re-established: notifications may be lost.
            Ok(Ok(None)) => {
                ids.send(CHECK_ALL.to_owned()).ok();
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "listening for cancel requests failed; retrying");
                ids.send(CHECK_ALL.to_owned()).ok();
                tokio::time::sleep(IDLE_CHECK).await;
            }
            Err(_idle) => {}
        }
        if stopped.idle() {
            return;
        }
    }
}

#[async_trait]
impl CancelSignal for CancelHub {
    async fn watch(&self) -> Result<Box<dyn CancelWatch>, StoreError> {
        let (ids, mut ready) = self.subscribe();
        // Until the task listens, a notification could be missed: wait for it
        // (bounded; without it the waiter still checks every RECHECK).
        let listening = tokio::time::timeout(READY_TIMEOUT, ready.wait_for(|ready| *ready)).await;
        if !matches!(listening, Ok(Ok(_))) {
            tracing::warn!("the cancel listener is not ready; checking every {RECHECK:?}");
        }
        Ok(Box::new(NotifyWatch { ids }))
    }
}

struct NotifyWatch {
    ids: broadcast::Receiver<String>,
}

#[async_trait]
impl CancelWatch for NotifyWatch {
    async fn changed(&mut self, run_id: &str) {
        let notified = async {
            loop {
                match self.ids.recv().await {
                    Ok(id) if id == run_id || id == CHECK_ALL => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    // The task stopped: rely on the recheck.
                    Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                }
            }
        };
        tokio::time::timeout(RECHECK, notified).await.ok();
    }
}
