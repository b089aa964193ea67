//! The one wiring function: settings in, tasks out. [`run`] builds the model, the metrics
//! registry, the watchers, the model task and the HTTP server, spawns each inside its own
//! tracing span, and ends in one `tokio::select!` that says which task stopped and why.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tracing::Instrument;

use crate::alert::{AlertEngine, SharedEngine};
use crate::base::Clock;
use crate::cluster::{ConfigMapStore, Elector, Leadership, Resource, run_watch};
use crate::coverage::Transition;
use crate::metrics::{LeaderCollector, Metrics};
use crate::model::{Model, SharedModel};
use crate::notification::Notification;
use crate::notify::{Dispatcher, NotifyMetrics};
use crate::reconcile::{Executor, ReconcileMetrics};
use crate::server::{AppState, router, serve};
use crate::settings::Settings;

mod model_file;
mod model_task;
mod shared_state;

use model_file::ModelFile;
use model_task::{Outputs, model_task};
pub use shared_state::{LeaderState, SILENCE_SYNC, merge_silences, sync_silences};

/// Watch events queued between the watchers and the model. A relist of a 5,000-node cluster
/// arrives as pages of 500 objects; 1,024 lets the watchers run a page ahead of the model
/// without holding a whole list in the queue.
pub const WATCH_EVENT_QUEUE: usize = 1024;

/// The longest the model task goes without evaluating the alert rules, in real time. Every
/// change the rules read and every deadline (grace, `for`, group timers, silences, blindness,
/// the model file, a new reconcile plan, a leadership change) wakes it on time; this tick is
/// only the safety net for a change that announces itself nowhere (a bug, or a new input added
/// without a wake-up), bounding its delay to a second. On a healthy cluster an evaluation reads
/// the gap index, not the cells, and costs microseconds, so once a second is free.
pub const SAFETY_TICK: Duration = Duration::from_secs(1);

/// While the alert engine keeps decided notifications pending, the model task evaluates at
/// least this often, so that it lets go of those the dispatcher holds by then: the dispatcher's
/// log of finished notification ids (`notify::store::FINISHED_IDS`) is sized for what can finish
/// within this time, which was the old evaluation tick's.
pub const RELEASE_EVERY: Duration = Duration::from_millis(250);

/// After an evaluation that took `c`, the next waits until `c × EVALUATION_PACE` has passed, so
/// that evaluating takes at most a quarter of the model task's time: one of a few microseconds
/// (a healthy cluster) delays nothing noticeable, while one of tens of milliseconds (thousands of
/// gaps) under a stream of pod updates cannot starve the watch events behind it.
pub const EVALUATION_PACE: f64 = 3.0;

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

    let (shared, silences) = shared_state(&settings, &client, &clock, &alerts, &dispatcher)?;
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
                shared,
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
        done = silences => Err(anyhow::anyhow!("the silence sync stopped: {done:?}")),
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

/// With `ha.enabled`, the leader's shared state and the task that shares the silences
/// (`shared_state.rs`), in the ConfigMaps `<lease>-state` and `<lease>-silences` of the Lease's
/// namespace; silence ids get the replica's identity. Without it, nothing (a task that never
/// ends).
fn shared_state(
    settings: &Settings,
    client: &kube::Client,
    clock: &Arc<dyn Clock>,
    alerts: &SharedEngine,
    dispatcher: &Option<crate::notify::DispatcherHandle>,
) -> anyhow::Result<(Option<LeaderState>, tokio::task::JoinHandle<()>)> {
    let ha = &settings.ha;
    if !ha.enabled {
        return Ok((None, tokio::spawn(std::future::pending())));
    }
    let namespace = ha.resolve_namespace()?;
    let identity = ha.own_identity();
    let configmap = |suffix: &str, key: &str| {
        let name = format!("{}-{suffix}", ha.lease_name);
        ConfigMapStore::new(client.clone(), &namespace, &name, key)
    };
    if let Ok(mut engine) = alerts.lock() {
        engine.set_silence_prefix(&identity);
    }
    let silences = tokio::spawn(
        sync_silences(
            configmap("silences", shared_state::SILENCES_KEY),
            alerts.clone(),
            clock.clone(),
        )
        .instrument(tracing::info_span!("silences")),
    );
    let leader = LeaderState::new(
        configmap("state", shared_state::STATE_KEY),
        identity,
        alerts.clone(),
        dispatcher.clone(),
        clock.clone(),
    );
    Ok((Some(leader), silences))
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
