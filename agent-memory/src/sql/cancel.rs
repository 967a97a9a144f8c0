//! How a store learns that a cancel may have been requested: the signal a
//! `wait_cancel` waits on between checks of the stored flag.

#[cfg(feature = "sqlite")]
use std::time::Duration;

use agent_core::StoreError;
use async_trait::async_trait;

/// A source of "check the cancel flags again" wake-ups.
#[async_trait]
pub(crate) trait CancelSignal: Send + Sync + 'static {
    /// Starts watching. Requests made after this returns wake the watch.
    async fn watch(&self) -> Result<Box<dyn CancelWatch>, StoreError>;
}

/// One waiter's watch, from [`CancelSignal::watch`].
#[async_trait]
pub(crate) trait CancelWatch: Send {
    /// Waits until a cancel of `run_id` may have been requested since the
    /// last call (spurious wake-ups are allowed; the caller checks the flag).
    async fn changed(&mut self, run_id: &str);
}

/// Wakes every `interval`: polling, for backends without notifications.
#[cfg(feature = "sqlite")]
pub(crate) struct Polling {
    pub(crate) interval: Duration,
}

#[cfg(feature = "sqlite")]
struct PollWatch {
    interval: Duration,
}

#[cfg(feature = "sqlite")]
#[async_trait]
impl CancelSignal for Polling {
    async fn watch(&self) -> Result<Box<dyn CancelWatch>, StoreError> {
        Ok(Box::new(PollWatch { interval: self.interval }))
    }
}

#[cfg(feature = "sqlite")]
#[async_trait]
impl CancelWatch for PollWatch {
    async fn changed(&mut self, _run_id: &str) {
        tokio::time::sleep(self.interval).await;
    }
}
