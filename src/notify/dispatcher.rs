//! The dispatcher: takes [`Notification`]s from the alert engine on a bounded channel, writes
//! each to the outbox, and hands it to its receiver's worker. One worker per receiver delivers
//! its notifications in order: it applies the dedup rule of the notification log
//! ([`store::decide`]), sends, and retries transient failures with exponential backoff and
//! jitter (or the receiver's `Retry-After`) until the notification is older than `max_age`;
//! permanent failures are not retried. Every end is counted in [`NotifyMetrics`] and logged.
//! Alertmanager workers also re-post the firing alerts of their groups every resend interval.
//!
//! A notification handed over again (the engine re-hands, after a crash, what it decided but did
//! not see durable) is accepted once: one with the same id ([`Notification::id`]) already in the
//! outbox or among the last finished is counted as a duplicate and dropped. The engine asks
//! [`DispatcherHandle::holds`] to learn when it may let go of what it decided.
//!
//! When the engine drops its sender, each worker gives every queued notification one more
//! attempt (no waiting for retries), for at most [`DRAIN_DEADLINE`]; what is left stays in the
//! outbox for the next start, or, without a state directory, is counted as `lost`.
//!
//! With leader election (`ha.enabled`, [`Dispatcher::start_gated`]) a worker sends only while
//! its replica leads: a leader that steps down with notifications in its outbox or in retry
//! stops sending at once and keeps them until it leads again or stops, so that two replicas
//! never deliver at the same time.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use backon::BackoffBuilder;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::config::NotifySettings;
use super::error::NotifyError;
use super::metrics::{NotifyMetrics, Outcome};
use super::receiver::Receiver;
use super::store::{self, Decision, Delivered, LogUpdate, Queued, SharedLog, Store};
use super::{Notification, Status};
use crate::base::Clock;
use crate::cluster::Leadership;

/// Capacity of the channel from the engine. The engine sends at most one notification per group
/// and receiver per evaluation; a zone outage on a large cluster (a hundred failed nodes, each
/// its own `DaemonSetPodsStranded` group, routed to four receivers) is 400 at once. The
/// dispatcher takes each off in about a millisecond (one synced file), so 1024 absorbs such a
/// burst without making the engine wait, and holds at most a few MB.
pub const QUEUE_CAPACITY: usize = 1024;

/// How long a shutdown may spend giving queued notifications their last attempt.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// The retry policy, from `notify.retry`.
#[derive(Clone, Copy, Debug)]
struct RetryPolicy {
    initial: Duration,
    max: Duration,
    max_age: jiff::SignedDuration,
}

impl RetryPolicy {
    fn backoff(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        let max = self.max;
        backon::ExponentialBuilder::default()
            .with_min_delay(self.initial)
            .with_max_delay(self.max)
            .with_jitter()
            .without_max_times()
            .build()
            .map(move |d| d.min(max))
    }
}

/// State shared by the workers.
#[derive(Debug)]
struct Shared {
    store: Mutex<Store>,
    metrics: NotifyMetrics,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    shutdown: CancellationToken,
    depth: Mutex<HashMap<String, usize>>,
    /// The leader election's state; `None`: always send.
    leadership: Option<watch::Receiver<Leadership>>,
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until this replica leads (at once without leader election); `false` when the
    /// dispatcher stops first, or the election has ended.
    async fn leading(&self) -> bool {
        let Some(mut leadership) = self.leadership.clone() else {
            return true;
        };
        if leadership.borrow().leading {
            return true;
        }
        tracing::info!("not the leader: delivery paused");
        tokio::select! {
            led = leadership.wait_for(|l| l.leading) => led.is_ok(),
            () = self.shutdown.cancelled() => false,
        }
    }

    fn add_depth(&self, receiver: &str, delta: isize) {
        let mut depth = self.depth.lock().unwrap_or_else(|e| e.into_inner());
        let d = depth.entry(receiver.to_owned()).or_default();
        *d = d.saturating_add_signed(delta);
        self.metrics.depth(receiver, *d);
    }
}

/// The engine's side of the dispatcher.
#[derive(Clone, Debug)]
pub struct DispatcherHandle {
    sender: mpsc::Sender<Notification>,
    receivers: Vec<String>,
    shared: Arc<Shared>,
}

impl DispatcherHandle {
    /// The bounded channel ([`QUEUE_CAPACITY`]) the engine sends notifications on; dropping
    /// every sender stops the dispatcher.
    pub fn sender(&self) -> mpsc::Sender<Notification> {
        self.sender.clone()
    }

    /// The receivers' names, in the order of the settings.
    pub fn receivers(&self) -> Vec<String> {
        self.receivers.clone()
    }

    /// Whether the dispatcher holds this notification so that a crash cannot lose it: in the
    /// outbox (synced, or only in memory without a state directory), or finished. Until then
    /// the engine keeps it to hand over again.
    pub fn holds(&self, notification: &Notification) -> bool {
        self.shared.store().knows(&notification.id())
    }

    /// What follows the leader (`ha.enabled`): the notification log, and of `decided` and
    /// the notifications accepted here those not finished, oldest first.
    pub fn handover(&self, decided: Vec<Notification>) -> (SharedLog, Vec<Notification>) {
        self.shared.store().handover(decided)
    }

    /// Takes over the previous leader's notification log; of this replica's own outbox only the
    /// notifications whose ids are `in_flight` are still sent (see [`SharedLog`]).
    pub fn adopt(&self, log: SharedLog, in_flight: &HashSet<String>) {
        self.shared.store().adopt(log, in_flight);
    }
}

/// Delivers notifications to the receivers of the settings.
#[derive(Debug)]
pub struct Dispatcher {
    shared: Arc<Shared>,
    workers: HashMap<String, mpsc::UnboundedSender<Queued>>,
    tasks: Vec<(String, tokio::task::JoinHandle<()>)>,
}

impl Dispatcher {
    /// Builds the receivers, opens the state directory and replays its outbox. Returns the
    /// handle and the delivery loop, which the caller spawns; it ends after the last sender is
    /// dropped and the queues are drained or persisted. Must be called inside a Tokio runtime.
    pub fn start(
        settings: &NotifySettings,
        metrics: NotifyMetrics,
        clock: Arc<dyn Clock>,
    ) -> Result<(DispatcherHandle, impl Future<Output = ()> + Send + 'static), NotifyError> {
        Self::start_gated(settings, metrics, clock, None)
    }

    /// [`Dispatcher::start`], sending only while `leadership` says this replica leads.
    pub fn start_gated(
        settings: &NotifySettings,
        metrics: NotifyMetrics,
        clock: Arc<dyn Clock>,
        leadership: Option<watch::Receiver<Leadership>>,
    ) -> Result<(DispatcherHandle, impl Future<Output = ()> + Send + 'static), NotifyError> {
        let receivers = settings
            .receivers
            .iter()
            .map(|r| Receiver::from_settings(r).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let (store, replay) = Store::open(settings.state_dir.as_deref())?;
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            metrics,
            clock,
            retry: RetryPolicy {
                initial: settings.retry.initial_backoff.std(),
                max: settings.retry.max_backoff.std(),
                max_age: settings.retry.max_age.0,
            },
            shutdown: CancellationToken::new(),
            depth: Mutex::new(HashMap::new()),
            leadership,
        });
        let mut dispatcher = Dispatcher {
            shared: shared.clone(),
            workers: HashMap::new(),
            tasks: Vec::new(),
        };
        for receiver in &receivers {
            let (tx, rx) = mpsc::unbounded_channel();
            shared.add_depth(&receiver.name, 0);
            let worker = Worker {
                receiver: receiver.clone(),
                queue: rx,
                shared: shared.clone(),
            };
            let span =
                tracing::info_span!("notify", receiver = %receiver.name, kind = receiver.kind());
            let task = tokio::spawn(tracing::Instrument::instrument(worker.run(), span));
            dispatcher.tasks.push((receiver.name.clone(), task));
            dispatcher.workers.insert(receiver.name.clone(), tx);
        }
        let replayed = replay.len();
        for queued in replay {
            dispatcher.hand_over(queued);
        }
        if replayed > 0 {
            tracing::info!(replayed, "outbox replayed");
        }
        let (sender, rx) = mpsc::channel(QUEUE_CAPACITY);
        let handle = DispatcherHandle {
            sender,
            receivers: receivers.iter().map(|r| r.name.clone()).collect(),
            shared,
        };
        Ok((handle, dispatcher.run(rx)))
    }

    /// Gives a queued notification to its receiver's worker.
    fn hand_over(&self, queued: Queued) {
        let receiver = queued.notification.receiver.clone();
        match self.workers.get(&receiver) {
            Some(worker) => {
                self.shared.add_depth(&receiver, 1);
                let _ = worker.send(queued);
            }
            None => {
                tracing::warn!(
                    receiver = %receiver,
                    group_key = %queued.notification.group_key,
                    "notification for a receiver that is not in the settings dropped"
                );
                self.shared.metrics.unknown_receiver();
                let _ = self.shared.store().finish(&queued, LogUpdate::Keep);
            }
        }
    }

    /// Writes a notification to the outbox, unless one with its id is there or finished already.
    fn accept(&self, notification: Notification) -> Option<Queued> {
        let now = self.shared.clock.now();
        let mut store = self.shared.store();
        if store.knows(&notification.id()) {
            tracing::info!(
                receiver = %notification.receiver,
                group_key = %notification.group_key,
                "notification handed over again: accepted already"
            );
            self.shared
                .metrics
                .finished(&notification.receiver, Outcome::Duplicate);
            return None;
        }
        let (queued, written) = store.enqueue(notification, now);
        if let Err(error) = written {
            tracing::error!(%error, "cannot write the outbox; delivering from memory");
        }
        Some(queued)
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Notification>) {
        while let Some(notification) = rx.recv().await {
            if let Some(queued) = self.accept(notification) {
                self.hand_over(queued);
            }
        }
        tracing::info!("notification channel closed; giving queued notifications a last attempt");
        self.shared.shutdown.cancel();
        self.workers.clear();
        let deadline = tokio::time::Instant::now() + DRAIN_DEADLINE;
        for (receiver, mut task) in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                tracing::warn!(receiver = %receiver, "delivery stopped at the drain deadline");
            }
        }
        tracing::info!("dispatcher stopped");
    }
}

/// Whether a worker goes on.
enum Flow {
    Continue,
    Stop,
}

/// Delivers the notifications of one receiver, in order.
struct Worker {
    receiver: Arc<Receiver>,
    queue: mpsc::UnboundedReceiver<Queued>,
    shared: Arc<Shared>,
}

impl Worker {
    async fn run(mut self) {
        let mut resend = self.receiver.resend_interval().map(|every| {
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        loop {
            let queued = tokio::select! {
                biased;
                queued = self.queue.recv() => match queued {
                    Some(queued) => queued,
                    None => return,
                },
                _ = async { match resend.as_mut() {
                    Some(interval) => interval.tick().await,
                    None => std::future::pending().await,
                } }, if !self.shared.shutdown.is_cancelled() => {
                    self.resend().await;
                    continue;
                }
            };
            if let Flow::Stop = self.deliver(&queued).await {
                self.stop(queued);
                return;
            }
        }
    }

    /// Leaves what is queued for the next start (or counts it lost).
    fn stop(&mut self, current: Queued) {
        let mut left = 1;
        while self.queue.try_recv().is_ok() {
            left += 1;
        }
        let _ = current;
        if self.shared.store().is_durable() {
            tracing::info!(left, "notifications kept in the outbox for the next start");
        } else {
            tracing::error!(
                left,
                "notifications lost at shutdown: no notify.state_dir to keep them in"
            );
            for _ in 0..left {
                self.shared
                    .metrics
                    .finished(&self.receiver.name, Outcome::Lost);
            }
        }
    }

    /// Finishes a notification: log, outbox, depth, count.
    fn finish(&self, queued: &Queued, update: LogUpdate, outcome: Outcome) {
        if let Err(error) = self.shared.store().finish(queued, update) {
            tracing::error!(%error, "cannot update the notification log or outbox");
        }
        self.shared.add_depth(&self.receiver.name, -1);
        self.shared.metrics.finished(&self.receiver.name, outcome);
    }

    async fn deliver(&self, queued: &Queued) -> Flow {
        let n = &queued.notification;
        let mut backoff = self.shared.retry.backoff();
        let mut attempt = 0u32;
        loop {
            let now = self.shared.clock.now();
            if now.duration_since(n.created_at) > self.shared.retry.max_age {
                tracing::warn!(
                    group_key = %n.group_key,
                    status = ?n.status,
                    attempts = attempt,
                    "notification dropped: older than notify.retry.max_age"
                );
                self.finish(queued, LogUpdate::Keep, Outcome::Expired);
                return Flow::Continue;
            }
            let decision = {
                let store = self.shared.store();
                // Finished by another leader meanwhile (`ha.enabled`): as a duplicate.
                match store.is_superseded(&n.id()) {
                    true => Decision::Duplicate,
                    false => store::decide(
                        n,
                        store.last(&n.receiver, &n.group_key),
                        self.receiver.send_resolved,
                    ),
                }
            };
            let (update, outcome) = match decision {
                Decision::Send => (None, None),
                Decision::Duplicate => (Some(LogUpdate::Keep), Some(Outcome::Duplicate)),
                Decision::ResolvedWithoutFiring => {
                    (Some(LogUpdate::Keep), Some(Outcome::ResolvedWithoutFiring))
                }
                Decision::ResolvedNotWanted => {
                    (Some(LogUpdate::Forget), Some(Outcome::ResolvedNotWanted))
                }
            };
            if let (Some(update), Some(outcome)) = (update, outcome) {
                tracing::debug!(group_key = %n.group_key, outcome = outcome.as_str(), "notification not sent");
                self.finish(queued, update, outcome);
                return Flow::Continue;
            }
            if !self.shared.leading().await {
                return Flow::Stop;
            }
            attempt += 1;
            let error = match self.receiver.send(n, now).await {
                Ok(()) => {
                    self.delivered(queued);
                    return Flow::Continue;
                }
                Err(error) => error,
            };
            if !error.is_transient() {
                tracing::error!(
                    %error,
                    group_key = %n.group_key,
                    attempts = attempt,
                    "notification dropped: the receiver refused it"
                );
                self.finish(queued, LogUpdate::Keep, Outcome::Failed);
                return Flow::Continue;
            }
            self.shared
                .metrics
                .retried(&self.receiver.name, error.metric_label());
            if self.shared.shutdown.is_cancelled() {
                tracing::warn!(%error, group_key = %n.group_key, "delivery failed at shutdown");
                return Flow::Stop;
            }
            let backoff_wait = backoff.next().unwrap_or(self.shared.retry.max);
            let wait = error
                .retry_after()
                .map_or(backoff_wait, |asked| asked.min(self.shared.retry.max));
            tracing::warn!(
                %error,
                group_key = %n.group_key,
                attempt,
                retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "delivery failed; will retry"
            );
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.shared.shutdown.cancelled() => return Flow::Stop,
            }
        }
    }

    fn delivered(&self, queued: &Queued) {
        let n = &queued.notification;
        let now = self.shared.clock.now();
        let update = match (n.test, n.status) {
            (true, _) => LogUpdate::Keep,
            (false, Status::Firing) => {
                let keep_alerts = self.receiver.resend_interval().is_some();
                LogUpdate::Set(Delivered::of(n, now, keep_alerts))
            }
            (false, Status::Resolved) => LogUpdate::Forget,
        };
        let latency = now
            .duration_since(queued.accepted_at)
            .as_secs_f64()
            .max(0.0);
        self.shared.metrics.latency(&self.receiver.name, latency);
        tracing::info!(
            group_key = %n.group_key,
            status = ?n.status,
            alerts = n.alerts.len(),
            "notification delivered"
        );
        self.finish(queued, update, Outcome::Delivered);
    }

    /// Re-posts the firing alerts of every group (Alertmanager).
    async fn resend(&self) {
        let alerts = self.shared.store().firing_alerts(&self.receiver.name);
        if alerts.is_empty()
            || self
                .shared
                .leadership
                .as_ref()
                .is_some_and(|l| !l.borrow().leading)
        {
            return;
        }
        let now = self.shared.clock.now();
        match self.receiver.resend(&alerts, now).await {
            Ok(()) => self.shared.metrics.resent(&self.receiver.name, true),
            Err(error) => {
                self.shared.metrics.resent(&self.receiver.name, false);
                tracing::warn!(%error, alerts = alerts.len(), "re-posting firing alerts failed");
            }
        }
    }
}
