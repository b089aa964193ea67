//! The model task: the one writer of the model. It applies watch events in batches, ticks the
//! clock, evaluates the alert rules, saves the model's clocks, publishes transitions and hands
//! the decided notifications over (only while leading, with `ha.enabled`).

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, watch};

use super::model_file::ModelFile;
use super::shared_state::LeaderState;
use super::{TICK, WATCH_EVENT_QUEUE};
use crate::alert::SharedEngine;
use crate::base::Clock;
use crate::cluster::{Leadership, WatchEvent};
use crate::coverage::Transition;
use crate::metrics::Metrics;
use crate::model::SharedModel;
use crate::notification::Notification;
use crate::notify::DispatcherHandle;
use crate::reconcile::ReconcileHandle;

/// What the model task feeds besides the model.
pub(super) struct Outputs {
    pub(super) transitions: Option<broadcast::Sender<Transition>>,
    pub(super) notifications: Option<mpsc::Sender<Notification>>,
    /// Says when the dispatcher holds a notification (absent: handing over is all there is).
    pub(super) dispatcher: Option<DispatcherHandle>,
    pub(super) alerts: SharedEngine,
    /// The latest reconcile plan, whose advice goes into the alerts.
    pub(super) reconcile: ReconcileHandle,
    /// Where the model's clocks and incidents are saved, if there is a state directory.
    pub(super) model_file: Option<ModelFile>,
    /// The leader election's state (`ha.enabled`): only the leader hands notifications over.
    pub(super) leadership: Option<watch::Receiver<Leadership>>,
    /// The state that follows the leader (`ha.enabled`): read on taking over, written before
    /// each hand-over.
    pub(super) shared: Option<LeaderState>,
}

/// Owns the writes to the model: applies watch events in batches, ticks the clock, evaluates the
/// alert rules on every tick, publishes transitions and hands notifications over. It first hands
/// over again what the engine decided before a crash and the dispatcher may not hold.
pub(super) async fn model_task(
    mut events: mpsc::Receiver<WatchEvent>,
    model: SharedModel,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    mut outputs: Outputs,
) {
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch = Vec::with_capacity(WATCH_EVENT_QUEUE);
    // Until every watch has listed once, transitions only reflect the order of the lists.
    let mut synced_once = false;
    // With `ha.enabled` a leader first takes the shared state over (in `deliver`).
    let mut leading = outputs.leading() && outputs.shared.is_none();
    if leading {
        hand_over_pending(&outputs).await;
    }
    loop {
        let ticked = tokio::select! {
            received = events.recv_many(&mut batch, WATCH_EVENT_QUEUE) => {
                if received == 0 {
                    return;
                }
                false
            }
            _ = ticker.tick() => true,
        };
        let started = Instant::now();
        let (changed, notifications) = {
            let Ok(mut model) = model.lock() else {
                tracing::error!("model lock poisoned");
                return;
            };
            let now = clock.now();
            let mut changed = Vec::new();
            for event in batch.drain(..) {
                changed.extend(model.handle(event, now));
            }
            changed.extend(model.tick(now));
            if !synced_once && model.health().resources().values().all(|h| h.synced) {
                synced_once = true;
                changed.clear();
            }
            let plan = if ticked {
                outputs.reconcile.latest().plan
            } else {
                None
            };
            let advice = |ds: &crate::cluster::ObjectKey, node: &str| {
                plan.as_ref().and_then(|p| p.advice(ds, node))
            };
            let notifications = match (ticked, outputs.alerts.lock()) {
                (true, Ok(mut engine)) => {
                    engine.release_held(&|n: &Notification| outputs.held(n));
                    let decided = engine.evaluate_with_advice(&model, now, &advice);
                    if !leading {
                        engine.coalesce_pending();
                    }
                    decided
                }
                _ => Vec::new(),
            };
            (
                if synced_once { changed } else { Vec::new() },
                notifications,
            )
        };
        metrics.evaluation.observe(started.elapsed().as_secs_f64());
        if let (true, Some(file)) = (ticked, &mut outputs.model_file) {
            file.save(&model, clock.now(), false).await;
        }
        for t in changed {
            log_transition(&t);
            if let Some(sender) = &outputs.transitions {
                let _ = sender.send(t);
            }
        }
        deliver(&mut outputs, notifications, &mut leading).await;
    }
}

/// Hands this tick's notifications over, if this replica leads (always, without `ha.enabled`).
/// A replica that has just become leader hands over everything pending instead.
async fn deliver(outputs: &mut Outputs, notifications: Vec<Notification>, leading: &mut bool) {
    let was_leading = std::mem::replace(leading, outputs.leading());
    if let Some(shared) = &mut outputs.shared {
        // A new leader first takes over what the previous one left; a leader hands nothing
        // over before it is written where the next leader reads it. Either failing, everything
        // stays pending and is handed over once both succeed.
        if *leading && !(shared.take_over().await && shared.publish().await) {
            *leading = false;
            return;
        }
        if !*leading {
            shared.step_down();
        }
    }
    if !*leading {
        // A follower decides as the leader does, and keeps what it decided pending in the
        // alert state, coalesced per group; it hands that over on taking over, never before.
        if !notifications.is_empty() {
            tracing::debug!(
                count = notifications.len(),
                "not the leader; notifications kept pending"
            );
        }
        return;
    }
    if !was_leading {
        // Everything decided so far, this tick's decisions included, is pending.
        tracing::info!("leading now: handing over the pending notifications");
        hand_over_pending(outputs).await;
        return;
    }
    for notification in notifications {
        if !outputs.leading() {
            // Leadership ended meanwhile: the rest stays pending for the next term.
            break;
        }
        tracing::info!(
            receiver = notification.receiver.as_str(),
            group = notification.group_key.as_str(),
            status = ?notification.status,
            alerts = notification.alerts.len(),
            id = notification.id(),
            "notification decided"
        );
        outputs.hand_over(notification).await;
    }
}

impl Outputs {
    /// Whether this replica may hand notifications over: always, without `ha.enabled`.
    fn leading(&self) -> bool {
        self.leadership
            .as_ref()
            .is_none_or(|leadership| leadership.borrow().leading)
    }

    /// Whether what was handed over is held where a crash cannot lose it, so that the engine may
    /// let go of it.
    fn held(&self, notification: &Notification) -> bool {
        match (&self.dispatcher, &self.notifications) {
            (Some(dispatcher), _) => dispatcher.holds(notification),
            // A channel of the caller's (tests): nothing says it holds what it got, which stays
            // pending and is handed over again at the next start, as after a crash.
            (None, Some(_)) => false,
            (None, None) => true,
        }
    }

    async fn hand_over(&self, notification: Notification) {
        match &self.notifications {
            // Back-pressure: the dispatcher persists what it accepts; waiting here delays
            // evaluation rather than losing a notification.
            Some(sender) => {
                if sender.send(notification).await.is_err() {
                    tracing::error!("the dispatcher is gone; notification not delivered");
                }
            }
            None => tracing::warn!("no receiver is configured; the notification is not delivered"),
        }
    }
}

/// Hands over again what the engine decided before it last stopped and may not have reached the
/// dispatcher's outbox (a crash between the two); the dispatcher drops what it holds already.
async fn hand_over_pending(outputs: &Outputs) {
    let pending = match outputs.alerts.lock() {
        Ok(engine) => engine.pending(),
        Err(_) => return,
    };
    if !pending.is_empty() {
        tracing::info!(
            count = pending.len(),
            "handing over again the notifications decided before the restart"
        );
    }
    for notification in pending {
        outputs.hand_over(notification).await;
    }
}

fn log_transition(t: &Transition) {
    if t.to.state.is_gap() || t.from.state.is_gap() {
        tracing::info!(
            daemonset = %t.daemonset,
            node = %t.node,
            from = t.from.state.as_str(),
            to = t.to.state.as_str(),
            reason = t.to.reason.as_str(),
            actionable = t.to.actionable,
            "cell changed"
        );
    }
}
