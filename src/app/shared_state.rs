//! The state that follows the leader (`ha.enabled`), composed from the alert engine's
//! [`Handover`] and the dispatcher's [`SharedLog`] and kept in ConfigMaps of dsguard's namespace
//! ([`ConfigMapStore`]), beside each replica's own state directory:
//!
//! - `<lease>-state`, key `state.json`, written by the leader only: the firing set, the
//!   notification log per group, and the notifications decided and not known to be delivered.
//!   The leader writes it *before* it hands a notification to its dispatcher (write-ahead), and
//!   again whenever it changed (a delivery finished, an alert resolved), at most once a tick.
//!   A replica that takes over reads it before it hands anything over ([`LeaderState::take_over`]):
//!   it neither repeats a page the old leader delivered nor forgets a resolve for one that
//!   fired, and what was in flight goes out again with the same id (`Idempotency-Key`).
//! - `<lease>-silences`, key `silences.json`, written by every replica: each merges its own
//!   silences into it every [`SILENCE_SYNC`] ([`sync_silences`]), so a silence created or expired
//!   on any replica reaches the leader within about two periods.
//!
//! Both are bounded by what a ConfigMap holds ([`MAX_VALUE_BYTES`]); [`fit`] says what is dropped
//! first.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::alert::{Handover, SharedEngine, SharedSilences};
use crate::base::Clock;
use crate::cluster::{CONFLICT_RETRIES, ConfigMapStore, MAX_VALUE_BYTES, StoreError, Versioned};
use crate::notification::Notification;
use crate::notify::{DispatcherHandle, SharedLog};

/// The key of the leader's state in its ConfigMap.
pub const STATE_KEY: &str = "state.json";

/// The key of the shared silences in their ConfigMap.
pub const SILENCES_KEY: &str = "silences.json";

/// How often each replica merges its silences with the shared ones. Polling a ConfigMap of a few
/// KB once a second costs the API server little, needs only `get`/`update` (no `watch` or
/// `list` in the Role) and has no watch to re-establish; a silence reaches the leader within two
/// periods, well before a notification usually waits out its `group_wait`.
pub const SILENCE_SYNC: Duration = Duration::from_secs(1);

/// What the leader writes.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StateDoc {
    /// Who wrote it.
    holder: String,
    /// The alert engine's part.
    alerts: Handover,
    /// The dispatcher's part.
    log: SharedLog,
}

/// The leader's side of the shared state.
pub struct LeaderState {
    store: ConfigMapStore,
    identity: String,
    alerts: SharedEngine,
    dispatcher: Option<DispatcherHandle>,
    clock: Arc<dyn Clock>,
    /// What was last read or written, and its version.
    written: Versioned,
    /// Whether this replica took the shared state over in its current term.
    taken_over: bool,
}

impl LeaderState {
    /// The shared state in `store`, for the replica `identity`.
    pub fn new(
        store: ConfigMapStore,
        identity: String,
        alerts: SharedEngine,
        dispatcher: Option<DispatcherHandle>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            identity,
            alerts,
            dispatcher,
            clock,
            written: Versioned::default(),
            taken_over: false,
        }
    }

    /// Reads what the previous leader wrote and takes it over, once a term. `false` when it
    /// cannot be read: the caller hands nothing over and tries again. An unreadable text is
    /// logged and skipped (this replica goes on from its own state).
    pub async fn take_over(&mut self) -> bool {
        if self.taken_over {
            return true;
        }
        let read = match self.store.read().await {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(%error, configmap = self.store.name(), "cannot read the shared state; not handing over yet");
                return false;
            }
        };
        match read.value.as_deref().map(serde_json::from_str::<StateDoc>) {
            None => tracing::info!(
                configmap = self.store.name(),
                "no shared state yet; going on from this replica's own"
            ),
            Some(Err(error)) => tracing::error!(
                %error,
                configmap = self.store.name(),
                "unreadable shared state skipped; going on from this replica's own"
            ),
            Some(Ok(doc)) => self.adopt(doc),
        }
        self.written = read;
        self.taken_over = true;
        true
    }

    /// The term ended: the next one takes over again (another leader may have written since).
    pub fn step_down(&mut self) {
        self.taken_over = false;
    }

    fn adopt(&self, doc: StateDoc) {
        let in_flight: HashSet<String> = doc.alerts.pending.iter().map(Notification::id).collect();
        if let Some(dispatcher) = &self.dispatcher {
            dispatcher.adopt(doc.log, &in_flight);
        }
        if let Ok(mut engine) = self.alerts.lock() {
            engine.adopt(doc.alerts, self.clock.now());
        }
        tracing::info!(
            previous = %doc.holder,
            in_flight = in_flight.len(),
            "took over the shared state of the previous leader"
        );
    }

    /// Writes the state as it is now, unless it is written already; `true` once it is. The
    /// leader calls it before handing notifications over: what it hands over is then known to
    /// the next leader.
    pub async fn publish(&mut self) -> bool {
        let Some(text) = self.render() else {
            return false;
        };
        if self.written.value.as_deref() == Some(text.as_str()) {
            return true;
        }
        let mut conflicts = 0;
        loop {
            match self.store.write(text.clone(), &self.written).await {
                Ok(written) => {
                    self.written = written;
                    return true;
                }
                Err(StoreError::Conflict) if conflicts < CONFLICT_RETRIES => {
                    // Our last write's answer was lost, or an old leader wrote late: this
                    // replica leads now, so it writes over whatever is there.
                    conflicts += 1;
                    match self.store.read().await {
                        Ok(read) => self.written.resource_version = read.resource_version,
                        Err(error) => return failed(&error, self.store.name()),
                    }
                }
                Err(error) => return failed(&error, self.store.name()),
            }
        }
    }

    /// The text to write: the engine's handover, with the notifications the dispatcher accepted
    /// and did not finish added to the pending ones, and those it finished taken out.
    fn render(&self) -> Option<String> {
        let mut alerts = self.alerts.lock().ok()?.handover();
        let mut log = SharedLog::default();
        if let Some(dispatcher) = &self.dispatcher {
            (log, alerts.pending) = dispatcher.handover(std::mem::take(&mut alerts.pending));
        }
        let mut doc = StateDoc {
            holder: self.identity.clone(),
            alerts,
            log,
        };
        fit(&mut doc)
    }
}

fn failed(error: &StoreError, configmap: &str) -> bool {
    tracing::warn!(
        %error,
        reason = error.metric_label(),
        configmap,
        "cannot write the shared state; notifications wait until it is written"
    );
    false
}

/// The text of `doc`, within [`MAX_VALUE_BYTES`]. What goes first, least harmful first: the
/// alerts kept for re-posting to Alertmanager, then the alerts not firing yet (a new leader
/// restarts their `for`), then whole groups, the one sent longest ago first (a new leader may
/// page again for such a group, or miss its resolve). Each drop is logged.
fn fit(doc: &mut StateDoc) -> Option<String> {
    let mut text = serde_json::to_string(doc).ok()?;
    if text.len() <= MAX_VALUE_BYTES {
        return Some(text);
    }
    doc.log.drop_reposts();
    let not_firing = doc.alerts.drop_not_firing();
    let mut groups = 0;
    loop {
        text = serde_json::to_string(doc).ok()?;
        if text.len() <= MAX_VALUE_BYTES {
            break;
        }
        let Some(key) = doc.alerts.drop_oldest_group() else {
            break;
        };
        doc.log.drop_group(&key);
        groups += 1;
    }
    tracing::warn!(
        not_firing,
        groups,
        bytes = text.len(),
        limit = MAX_VALUE_BYTES,
        "the shared state outgrew its ConfigMap: re-posts, alerts not firing yet and the oldest groups left out"
    );
    (text.len() <= MAX_VALUE_BYTES).then_some(text)
}

/// Merges this replica's silences with the shared ones every [`SILENCE_SYNC`], for good.
pub async fn sync_silences(store: ConfigMapStore, alerts: SharedEngine, clock: Arc<dyn Clock>) {
    let mut every = tokio::time::interval(SILENCE_SYNC);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let merged = store
            .update(|current| merge_silences(current, &alerts, clock.as_ref()))
            .await;
        if let Err(error) = merged {
            tracing::warn!(%error, reason = error.metric_label(), configmap = store.name(), "cannot merge the shared silences");
        }
    }
}

/// One merge: the text to write, or `None` when the shared silences already say it all.
pub fn merge_silences(
    current: Option<&str>,
    alerts: &SharedEngine,
    clock: &dyn Clock,
) -> Option<String> {
    let (shared, readable) = match current.map(serde_json::from_str) {
        None => (SharedSilences::default(), false),
        Some(Ok(shared)) => (shared, true),
        Some(Err(error)) => {
            tracing::error!(%error, "unreadable shared silences replaced by this replica's");
            (SharedSilences::default(), false)
        }
    };
    let now = clock.now();
    let mut merged = alerts.lock().ok()?.merge_silences(shared.clone(), now);
    let nothing_new = match (current, readable) {
        (None, _) => merged.silences.is_empty(),
        (Some(_), true) => merged == shared,
        (Some(_), false) => false,
    };
    if nothing_new {
        return None;
    }
    let mut text = serde_json::to_string(&merged).ok()?;
    if text.len() > MAX_VALUE_BYTES {
        merged.drop_ended(now);
        text = serde_json::to_string(&merged).ok()?;
    }
    if text.len() > MAX_VALUE_BYTES {
        tracing::error!(
            bytes = text.len(),
            "the silences outgrew their ConfigMap; new ones stay on this replica"
        );
        return None;
    }
    Some(text)
}

#[cfg(test)]
mod tests;
