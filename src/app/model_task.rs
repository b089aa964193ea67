//! The model task: the one writer of the model. It applies watch events in batches, advances the
//! clock, evaluates the alert rules after the changes they read and at the next deadline, saves
//! the model's clocks, publishes transitions and hands the decided notifications over (only
//! while leading, with `ha.enabled`).

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, watch};

use super::WATCH_EVENT_QUEUE;
use super::model_file::ModelFile;
use super::shared_state::LeaderState;
use crate::alert::SharedEngine;
use crate::base::{Clock, Timestamp};
use crate::cluster::{Leadership, Object, ObjectKey, ObjectRef, WatchEvent};
use crate::coverage::Transition;
use crate::metrics::Metrics;
use crate::model::{Model, SharedModel};
use crate::notification::Notification;
use crate::notify::DispatcherHandle;
use crate::reconcile::{Plan, ReconcileHandle};

mod schedule;

use schedule::Schedule;

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

/// Owns the writes to the model: applies watch events in batches, advances the clock, evaluates
/// the alert rules when something they read changed or a deadline passed (see [`Schedule`]),
/// publishes transitions and hands notifications over. It first hands over again what the
/// engine decided before a crash and the dispatcher may not hold.
pub(super) async fn model_task(
    mut events: mpsc::Receiver<WatchEvent>,
    model: SharedModel,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    mut outputs: Outputs,
) {
    let mut batch = Vec::with_capacity(WATCH_EVENT_QUEUE);
    let Ok(silences) = outputs.alerts.lock().map(|engine| engine.changes()) else {
        return;
    };
    let mut plans = outputs.reconcile.published();
    // A new term hands the pending notifications over at once, not at the next evaluation.
    let mut leadership = outputs.leadership.clone();
    let mut pass = Pass {
        schedule: Schedule::new(Instant::now(), outputs.model_file.is_some()),
        plan: outputs.reconcile.latest().plan,
        synced_once: false,
        // With `ha.enabled` a leader first takes the shared state over (in `deliver`).
        leading: outputs.leading() && outputs.shared.is_none(),
    };
    if pass.leading {
        hand_over_pending(&outputs).await;
    }
    loop {
        let wake = tokio::time::Instant::from_std(pass.schedule.wake_at());
        let timed = tokio::select! {
            received = events.recv_many(&mut batch, WATCH_EVENT_QUEUE) => {
                if received == 0 {
                    return;
                }
                false
            }
            () = tokio::time::sleep_until(wake) => true,
            () = silences.notified() => true,
            Ok(()) = plans.changed() => {
                pass.plan = outputs.reconcile.latest().plan;
                true
            }
            Some(Ok(())) = leadership_changed(leadership.as_mut()) => true,
        };
        let started = Instant::now();
        let passed = match model.lock() {
            Ok(mut model) => pass.run(&mut model, &mut batch, timed, clock.as_ref(), &outputs),
            Err(_) => {
                tracing::error!("model lock poisoned");
                return;
            }
        };
        let (changed, notifications) = passed;
        metrics.evaluation.observe(started.elapsed().as_secs_f64());
        if let Some(file) = &mut outputs.model_file
            && pass.schedule.save_due(Instant::now())
        {
            file.save(&model, clock.now(), false).await;
        }
        for t in changed {
            log_transition(&t);
            if let Some(sender) = &outputs.transitions {
                let _ = sender.send(t);
            }
        }
        deliver(&mut outputs, notifications, &mut pass.leading).await;
    }
}

/// Waits for the leadership to change; never, without `ha.enabled`.
async fn leadership_changed(
    leadership: Option<&mut watch::Receiver<Leadership>>,
) -> Option<Result<(), watch::error::RecvError>> {
    match leadership {
        Some(receiver) => Some(receiver.changed().await),
        None => std::future::pending().await,
    }
}

/// What the model task carries from one pass to the next.
struct Pass {
    schedule: Schedule,
    /// The latest reconcile plan, read when the executor publishes one.
    plan: Option<Plan>,
    /// Until every watch has listed, transitions only reflect the order of the lists.
    synced_once: bool,
    leading: bool,
}

impl Pass {
    /// Applies the batch, advances time, and evaluates the rules if something they read changed
    /// or `timed` (a deadline, a silence or a new plan woke the task). Returns the transitions to
    /// publish and the notifications decided.
    fn run(
        &mut self,
        model: &mut Model,
        batch: &mut Vec<WatchEvent>,
        timed: bool,
        clock: &dyn Clock,
        outputs: &Outputs,
    ) -> (Vec<Transition>, Vec<Notification>) {
        let now = clock.now();
        let before = (model.coverage().gap_version(), model.blindness().is_some());
        let mut wanted = timed;
        let mut changed = Vec::new();
        for event in batch.drain(..) {
            wanted |= read_by_rules(&event);
            changed.extend(model.handle(event, now));
        }
        changed.extend(model.tick(now));
        wanted |= !changed.is_empty()
            || before != (model.coverage().gap_version(), model.blindness().is_some());
        if !self.synced_once && model.health().resources().values().all(|h| h.synced) {
            self.synced_once = true;
            changed.clear();
        }
        let started = Instant::now();
        let notifications = if self.schedule.should_evaluate(wanted, started) {
            let decided = evaluate(outputs, model, now, self.plan.as_ref(), self.leading);
            let (next, pending) = match outputs.alerts.lock() {
                Ok(engine) => (engine.next_deadline(now), engine.pending_count()),
                Err(_) => (None, 0),
            };
            let took = (started, Instant::now());
            self.schedule.evaluated(took, next, pending, now, clock);
            decided
        } else {
            Vec::new()
        };
        let next = model.next_deadline(now);
        self.schedule
            .model_changes_at(next, now, Instant::now(), clock);
        if !self.synced_once {
            changed.clear();
        }
        (changed, notifications)
    }
}

/// Whether an event changes what the rules read beyond the cells (whose changes the gap index
/// reports): a node's quiet or usable state, a DaemonSet's controller status.
fn read_by_rules(event: &WatchEvent) -> bool {
    matches!(
        event,
        WatchEvent::Applied(Object::Node(_) | Object::DaemonSet(_))
            | WatchEvent::Deleted(ObjectRef::Node(_) | ObjectRef::DaemonSet(_))
    )
}

/// Lets go of what the dispatcher holds and evaluates the rules at `now`, with the reconcile
/// plan's advice; returns the notifications decided.
fn evaluate(
    outputs: &Outputs,
    model: &Model,
    now: Timestamp,
    plan: Option<&Plan>,
    leading: bool,
) -> Vec<Notification> {
    let advice = |ds: &ObjectKey, node: &str| plan.and_then(|p| p.advice(ds, node));
    let Ok(mut engine) = outputs.alerts.lock() else {
        return Vec::new();
    };
    engine.release_held(&|n: &Notification| outputs.held(n));
    let decided = engine.evaluate_with_advice(model, now, &advice);
    if !leading {
        engine.coalesce_pending();
    }
    decided
}

/// Hands this evaluation's notifications over, if this replica leads (always, without
/// `ha.enabled`). A replica that has just become leader hands over everything pending instead.
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
        // Everything decided so far, this evaluation's decisions included, is pending.
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
