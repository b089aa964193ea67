//! The one wiring function: settings in, tasks out. [`run`] builds the model, the metrics
//! registry, the watchers, the model task and the HTTP server, spawns each inside its own
//! tracing span, and ends in one `tokio::select!` that says which task stopped and why.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tracing::Instrument;

use crate::alert::{AlertEngine, SharedEngine};
use crate::base::Clock;
use crate::cluster::{Elector, Leadership, Resource, WatchEvent, run_watch};
use crate::coverage::Transition;
use crate::metrics::{LeaderCollector, Metrics};
use crate::model::{Model, SharedModel};
use crate::notification::Notification;
use crate::notify::{Dispatcher, DispatcherHandle, NotifyMetrics};
use crate::reconcile::{Executor, ReconcileHandle, ReconcileMetrics};
use crate::server::{AppState, router, serve};
use crate::settings::Settings;

mod model_file;

use model_file::ModelFile;

/// Watch events queued between the watchers and the model. A relist of a 5,000-node cluster
/// arrives as pages of 500 objects; 1,024 lets the watchers run a page ahead of the model
/// without holding a whole list in the queue.
pub const WATCH_EVENT_QUEUE: usize = 1024;

/// How often the model task advances time: grace periods expire and blindness is judged at this
/// resolution (in real time; a simulated cluster may run faster).
pub const TICK: Duration = Duration::from_millis(250);

/// Transitions kept for slow subscribers (the demo's printer, the alert engine).
pub const TRANSITION_BROADCAST: usize = 4096;

/// What [`run`] needs besides the settings.
pub struct Wiring {
    /// A client for the cluster's API server.
    pub client: kube::Client,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Where to serve HTTP.
    pub listener: TcpListener,
    /// Where to publish cell transitions, if anyone listens.
    pub transitions: Option<broadcast::Sender<Transition>>,
    /// Where to hand notifications to instead of the receivers of the settings (tests). Nothing
    /// handed there counts as held: it stays pending in the alert state and is handed over again
    /// at the next start, as if dsguard had crashed before its outbox got it.
    pub notifications: Option<mpsc::Sender<Notification>>,
}

/// Runs dsguard until `shutdown` resolves or a task stops.
pub async fn run(
    settings: Settings,
    wiring: Wiring,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Wiring {
        client,
        clock,
        listener,
        transitions,
        notifications,
    } = wiring;
    let mut model = Model::new(
        settings.coverage.to_settings(),
        settings.watch.staleness.0,
        clock.now(),
    );
    let mut model_file = ModelFile::new(settings.notify.state_dir.as_deref());
    if let Some(snapshot) = model_file.as_ref().and_then(ModelFile::load) {
        model.restore(snapshot);
    }
    let model: SharedModel = Arc::new(Mutex::new(model));
    let state_dir = settings.notify.state_dir.clone();
    let alerts: SharedEngine = Arc::new(Mutex::new(AlertEngine::new(
        settings.alerting.clone(),
        state_dir,
    )));
    let mut metrics = Metrics::new(
        model.clone(),
        alerts.clone(),
        clock.clone(),
        settings.metrics.full_matrix,
    );
    let notify_metrics = NotifyMetrics::register(metrics.registry_mut());
    let (elector, leadership) = election(&settings, &client, &clock)?;
    metrics
        .registry_mut()
        .register_collector(Box::new(LeaderCollector {
            leadership: leadership.clone(),
        }));
    let mut executor = Executor::new(
        settings.reconcile.clone(),
        ReconcileMetrics::register(metrics.registry_mut()),
    );
    if let Some(leadership) = &leadership {
        executor = executor.with_leadership(leadership.clone());
    }
    let reconcile = executor.handle();
    let metrics = Arc::new(metrics);
    // The dispatcher owns the receivers; it runs when the settings name any.
    let (notifications, dispatcher, delivery) = match notifications {
        Some(sender) => (Some(sender), None, None),
        None if settings.notify.receivers.is_empty() => (None, None, None),
        None => {
            let (handle, delivery) = Dispatcher::start_gated(
                &settings.notify,
                notify_metrics,
                clock.clone(),
                leadership.clone(),
            )
            .context("cannot start the notification dispatcher")?;
            tracing::info!(receivers = ?handle.receivers(), "delivering notifications");
            (
                Some(handle.sender()),
                Some(handle),
                Some(tokio::spawn(
                    delivery.instrument(tracing::info_span!("dispatcher")),
                )),
            )
        }
    };
    let (events, receiver) = mpsc::channel(WATCH_EVENT_QUEUE);

    let mut watchers = tokio::task::JoinSet::new();
    for resource in Resource::ALL {
        let span = tracing::info_span!("watch", resource = resource.as_str());
        watchers.spawn(
            run_watch(
                client.clone(),
                resource,
                settings.pods.watch,
                events.clone(),
            )
            .instrument(span),
        );
    }
    drop(events);

    let model_task = tokio::spawn(
        model_task(
            receiver,
            model.clone(),
            clock.clone(),
            metrics.clone(),
            Outputs {
                transitions,
                notifications,
                dispatcher,
                alerts: alerts.clone(),
                reconcile: reconcile.clone(),
                model_file: model_file.take(),
                leadership: leadership.clone(),
            },
        )
        .instrument(tracing::info_span!("model")),
    );
    let model_task_abort = model_task.abort_handle();
    let reconciler = tokio::spawn(
        executor
            .run(model.clone(), clock.clone(), client.clone())
            .instrument(tracing::info_span!("reconcile")),
    );
    let elector = tokio::spawn(async move {
        match elector {
            Some(elector) => {
                elector
                    .run()
                    .instrument(tracing::info_span!("leader"))
                    .await
            }
            // Without ha.enabled there is nothing to elect: this task never ends.
            None => std::future::pending().await,
        }
    });
    let addr = listener.local_addr().context("listener address")?;
    // Read again here (validate() read it too) so that the token lives only in the server.
    let access = settings.server.auth.access()?;
    let limits = settings.server.limits.clone();
    let (final_model, final_clock) = (model.clone(), clock.clone());
    let app = router(AppState {
        model,
        metrics,
        clock,
        alerts,
        reconcile,
        access,
        limits: limits.clone(),
        leadership,
    });
    let server = tokio::spawn(
        async move { serve(listener, app, &limits).await }
            .instrument(tracing::info_span!("server", %addr)),
    );
    let writes = if settings.server.auth.token_file.is_some() {
        "with the bearer token"
    } else {
        "disabled (no server.auth.token_file)"
    };
    tracing::info!(%addr, writes, "serving /metrics, /healthz, /readyz and /api/v1");

    let outcome = tokio::select! {
        () = shutdown => {
            tracing::info!("shutting down");
            Ok(())
        }
        Some(done) = watchers.join_next() => Err(anyhow::anyhow!("a watcher stopped: {done:?}")),
        done = model_task => Err(anyhow::anyhow!("the model task stopped: {done:?}")),
        done = reconciler => Err(anyhow::anyhow!("the reconcile executor stopped: {done:?}")),
        done = elector => Err(anyhow::anyhow!("the leader election stopped: {done:?}")),
        done = server => match done {
            Ok(Ok(())) => Err(anyhow::anyhow!("the HTTP server stopped")),
            Ok(Err(error)) => Err(anyhow::Error::new(error).context("the HTTP server failed")),
            Err(error) => Err(anyhow::Error::new(error).context("the HTTP server task failed")),
        },
    };
    watchers.abort_all();
    model_task_abort.abort();
    if let Some(mut file) = ModelFile::new(settings.notify.state_dir.as_deref()) {
        file.save(&final_model, final_clock.now(), true).await;
    }
    if let Some(delivery) = delivery {
        // The model task held the last sender: the dispatcher now drains or persists its queue.
        let _ = tokio::time::timeout(crate::notify::DRAIN_DEADLINE, delivery).await;
    }
    outcome
}

/// The leader election of `ha.enabled` and its channel; `(None, None)` without it, and no
/// Lease is ever touched. Fails, naming `ha.namespace`, when the Lease's namespace is unknown.
fn election(
    settings: &Settings,
    client: &kube::Client,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<(Option<Elector>, Option<watch::Receiver<Leadership>>)> {
    let ha = &settings.ha;
    if !ha.enabled {
        return Ok((None, None));
    }
    let namespace = ha.resolve_namespace()?;
    let (elector, leadership) = Elector::new(
        client.clone(),
        ha,
        &namespace,
        ha.own_identity(),
        clock.clone(),
    );
    Ok((Some(elector), Some(leadership)))
}

/// What the model task feeds besides the model.
struct Outputs {
    transitions: Option<broadcast::Sender<Transition>>,
    notifications: Option<mpsc::Sender<Notification>>,
    /// Says when the dispatcher holds a notification (absent: handing over is all there is).
    dispatcher: Option<DispatcherHandle>,
    alerts: SharedEngine,
    /// The latest reconcile plan, whose advice goes into the alerts.
    reconcile: ReconcileHandle,
    /// Where the model's clocks and incidents are saved, if there is a state directory.
    model_file: Option<ModelFile>,
    /// The leader election's state (`ha.enabled`): only the leader hands notifications over.
    leadership: Option<watch::Receiver<Leadership>>,
}

/// Owns the writes to the model: applies watch events in batches, ticks the clock, evaluates the
/// alert rules on every tick, publishes transitions and hands notifications over. It first hands
/// over again what the engine decided before a crash and the dispatcher may not hold.
async fn model_task(
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
    let mut leading = outputs.leading();
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
        deliver(&outputs, notifications, &mut leading).await;
    }
}

/// Hands this tick's notifications over, if this replica leads (always, without `ha.enabled`).
/// A replica that has just become leader hands over everything pending instead.
async fn deliver(outputs: &Outputs, notifications: Vec<Notification>, leading: &mut bool) {
    let was_leading = std::mem::replace(leading, outputs.leading());
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

/// Sets up logging from the settings.
pub fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match settings.log.format {
        crate::settings::LogFormat::Text => builder.try_init(),
        crate::settings::LogFormat::Json => builder.json().try_init(),
    };
}

/// Binds the HTTP listener, naming the setting on failure.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("setting server.listen: cannot listen on {addr}: {e}"))
}
