//! Reconcile end to end: the simulated API server over HTTP, dsguard's real watchers feeding a
//! model, and the reconcile executor acting through the real `kube` client. The story of
//! `crates/dsguard-sim/scenarios/reconcile-stuck.yaml` in `dry_run` and in `enforce`, and 200 stuck pods under the
//! rate limit, with nothing executed while dsguard is blind.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dsguard::base::Clock;
use dsguard::base::Duration as SettingsDuration;
use dsguard::cluster::{Object, ObjectKey, ObjectRef, PodWatch, Resource, WatchEvent, run_watch};
use dsguard::coverage::CellState;
use dsguard::model::Model;
use dsguard::model::SharedModel;
use dsguard::reconcile::{
    ActionKind, Executor, Mode, Outcome, ReconcileMetrics, ReconcileSettings,
};
use dsguard::simulated::ScenarioClock;
use dsguard_sim::testing::{eventually, options, scenario, scenario_file, start};
use jiff::SignedDuration;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::ListParams;
use tokio::sync::mpsc;

/// The simulator, a client, and a model fed by dsguard's watchers. `blind` emulates a failing
/// DaemonSets watch: while set, its events are swallowed.
struct Harness {
    sim: dsguard_sim::Simulation,
    client: kube::Client,
    clock: Arc<dyn Clock>,
    model: SharedModel,
    blind: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn resource_of(event: &WatchEvent) -> Resource {
    match event {
        WatchEvent::Listing(r)
        | WatchEvent::Synced(r)
        | WatchEvent::WatchStarted(r)
        | WatchEvent::Failed(r, _)
        | WatchEvent::Malformed(r, _) => *r,
        WatchEvent::Applied(Object::Node(_)) | WatchEvent::Deleted(ObjectRef::Node(_)) => {
            Resource::Nodes
        }
        WatchEvent::Applied(Object::DaemonSet(_))
        | WatchEvent::Deleted(ObjectRef::DaemonSet(_)) => Resource::DaemonSets,
        WatchEvent::Applied(Object::Pod(_)) | WatchEvent::Deleted(ObjectRef::Pod(_)) => {
            Resource::Pods
        }
    }
}

impl Harness {
    async fn start(scenario: dsguard_sim::scenario::Scenario, speed: f64) -> Self {
        let sim = start(scenario, options(speed)).await;
        let client = kube::Client::try_from(kube::Config::new(sim.url().parse().unwrap())).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(ScenarioClock(sim.store.clock().clone()));
        let model: SharedModel = Arc::new(Mutex::new(Model::new(
            Default::default(),
            SignedDuration::from_secs(2),
            clock.now(),
        )));
        let blind = Arc::new(AtomicBool::new(false));
        let (events, mut receiver) = mpsc::channel(1024);
        let mut tasks = Vec::new();
        for resource in Resource::ALL {
            tasks.push(tokio::spawn(run_watch(
                client.clone(),
                resource,
                PodWatch::Daemon,
                events.clone(),
            )));
        }
        let (m, c, b) = (model.clone(), clock.clone(), blind.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tokio::select! {
                    event = receiver.recv() => {
                        let Some(event) = event else { return };
                        if b.load(Ordering::SeqCst) && resource_of(&event) == Resource::DaemonSets {
                            continue;
                        }
                        m.lock().unwrap().handle(event, c.now());
                    }
                    _ = tick.tick() => { m.lock().unwrap().tick(c.now()); }
                }
            }
        }));
        Self {
            sim,
            client,
            clock,
            model,
            blind,
            tasks,
        }
    }

    async fn until(&self, scenario_time: Duration) {
        while self.sim.elapsed() < scenario_time {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn set_blind(&self, blind: bool) {
        self.blind.store(blind, Ordering::SeqCst);
        let now = self.clock.now();
        let mut model = self.model.lock().unwrap();
        if blind {
            model.handle(WatchEvent::Failed(Resource::DaemonSets, "test"), now);
        } else {
            // The watch is accepted again (a relist would have to list the DaemonSets).
            model.handle(WatchEvent::WatchStarted(Resource::DaemonSets), now);
        }
    }

    fn gaps(&self, node: &str) -> Vec<CellState> {
        let model = self.model.lock().unwrap();
        let now = self.clock.now();
        model
            .gaps(now)
            .into_iter()
            .filter(|g| g.node == node)
            .map(|g| g.state)
            .collect()
    }

    async fn dsguard_events(&self, namespace: &str) -> Vec<Event> {
        let api = Api::<Event>::namespaced(self.client.clone(), namespace);
        let list = api.list(&ListParams::default()).await.unwrap();
        list.items
            .into_iter()
            .filter(|e| e.reporting_component.as_deref() == Some("dsguard"))
            .collect()
    }

    async fn pod_exists(&self, key: &ObjectKey) -> bool {
        let api = Api::<Pod>::namespaced(self.client.clone(), &key.namespace);
        api.get_opt(&key.name).await.unwrap().is_some()
    }

    async fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
        self.sim.stop().await;
    }
}

fn settings(mode: Mode) -> ReconcileSettings {
    ReconcileSettings {
        mode,
        interval: SettingsDuration(SignedDuration::from_millis(100)),
        ..ReconcileSettings::default()
    }
}

fn executor(mode: Mode) -> (Executor, ReconcileMetrics) {
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = ReconcileMetrics::register(&mut registry);
    (Executor::new(settings(mode), metrics.clone()), metrics)
}

const AGENT: (&str, &str) = ("kube-system", "agent");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_dry_run_the_plan_lists_the_force_delete_and_nothing_changes() {
    let harness = Harness::start(scenario_file("reconcile-stuck.yaml"), 20.0).await;
    harness.until(Duration::from_secs(95)).await;
    let (mut executor, metrics) = executor(Mode::DryRun);
    let handle = executor.handle();
    let action = eventually(
        Duration::from_secs(10),
        "the stuck pod in the plan",
        async || {
            let report = executor
                .run_once(&harness.model, harness.clock.as_ref(), &harness.client)
                .await;
            report
                .reported
                .into_iter()
                .find(|(a, o)| a.kind == ActionKind::DeleteStuckPod && *o == Outcome::DryRun)
                .map(|(a, _)| a)
        },
    )
    .await;
    assert!(action.executable);
    assert_eq!(action.node.as_deref(), Some("worker-3"));
    assert_eq!(action.cells[0].0, ObjectKey::new(AGENT.0, AGENT.1));

    let response = serde_json::to_value(handle.response()).unwrap();
    assert_eq!(response["mode"], "dry_run");
    assert_eq!(
        response["actions"][0]["kind"], "delete_stuck_pod",
        "{response}"
    );
    assert_eq!(response["actions"][0]["executable"], true);
    assert!(
        response["actions"][0]["kubectl"]
            .as_str()
            .unwrap()
            .ends_with("--grace-period=0 --force")
    );

    // More runs: the decision is reported once, and nothing changes in the cluster.
    for _ in 0..10 {
        let report = executor
            .run_once(&harness.model, harness.clock.as_ref(), &harness.client)
            .await;
        assert!(report.executed.is_empty() && report.reported.is_empty());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metrics.get(ActionKind::DeleteStuckPod, Outcome::DryRun), 1);
    assert!(harness.pod_exists(action.pod.as_ref().unwrap()).await);
    assert!(harness.dsguard_events(AGENT.0).await.is_empty());
    assert_eq!(harness.gaps("worker-3"), vec![CellState::StuckTerminating]);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_enforce_the_stuck_pod_is_force_deleted_recorded_and_its_cell_closes() {
    let harness = Harness::start(scenario_file("reconcile-stuck.yaml"), 20.0).await;
    harness.until(Duration::from_secs(95)).await;
    let (mut executor, metrics) = executor(Mode::Enforce);
    let action = eventually(Duration::from_secs(10), "the force delete", async || {
        let report = executor
            .run_once(&harness.model, harness.clock.as_ref(), &harness.client)
            .await;
        report
            .executed
            .into_iter()
            .find(|(a, o)| a.kind == ActionKind::DeleteStuckPod && *o == Outcome::Executed)
            .map(|(a, _)| a)
    })
    .await;
    let pod = action.pod.clone().unwrap();
    assert!(
        !harness.pod_exists(&pod).await,
        "the pod is gone from the API"
    );
    assert_eq!(
        metrics.get(ActionKind::DeleteStuckPod, Outcome::Executed),
        1
    );

    let events = harness.dsguard_events(AGENT.0).await;
    let on = |kind: &str, name: &str| {
        events.iter().any(|e| {
            e.reason.as_deref() == Some("ForceDeleted")
                && e.involved_object.kind.as_deref() == Some(kind)
                && e.involved_object.name.as_deref() == Some(name)
        })
    };
    assert!(on("Pod", &pod.name), "{events:#?}");
    assert!(on("DaemonSet", AGENT.1), "{events:#?}");

    eventually(
        Duration::from_secs(10),
        "worker-3's cell closes",
        async || harness.gaps("worker-3").is_empty().then_some(()),
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "worker-4 gets its pod",
        async || {
            let model = harness.model.lock().unwrap();
            let cell = model
                .coverage()
                .cell(&ObjectKey::new(AGENT.0, AGENT.1), "worker-4")?;
            (cell.cell.state == CellState::Healthy).then_some(())
        },
    )
    .await;
    harness.stop().await;
}

/// 200 DaemonSets on two nodes; worker-2 fails, each of its 200 daemon pods is deleted (and
/// stays Terminating), then worker-2 is deleted and the pod GC is slow: 200 stuck pods.
fn two_hundred_stuck() -> dsguard_sim::scenario::Scenario {
    let mut yaml = String::from(
        "name: reconcile-200\nsettings: { pod_gc_delay: 1h }\nnodes:\n  - { name: worker, count: 2, cpu: \"16\" }\ndaemonsets:\n",
    );
    for i in 0..200 {
        yaml.push_str(&format!(
            "  - {{ name: agent-{i:03}, namespace: kube-system, cpu: 1m }}\n"
        ));
    }
    yaml.push_str("timeline:\n  - { at: 5s, fail_node: worker-2 }\n");
    for i in 0..200 {
        yaml.push_str(&format!(
            "  - {{ at: 50s, delete_pod: {{ daemonset: kube-system/agent-{i:03}, node: worker-2, grace: 10s }} }}\n"
        ));
    }
    yaml.push_str("  - { at: 60s, delete_node: worker-2 }\n");
    scenario(&yaml)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_stuck_pods_wait_while_blind_then_go_at_the_rate_limit() {
    let harness = Harness::start(two_hundred_stuck(), 60.0).await;
    harness.until(Duration::from_secs(95)).await;
    eventually(Duration::from_secs(20), "200 stuck pods", async || {
        let stuck = harness.gaps("worker-2");
        (stuck.len() == 200 && stuck.iter().all(|s| *s == CellState::StuckTerminating))
            .then_some(())
    })
    .await;

    harness.set_blind(true);
    eventually(Duration::from_secs(5), "dsguard blind", async || {
        harness.model.lock().unwrap().tick(harness.clock.now());
        harness.model.lock().unwrap().blindness().map(|_| ())
    })
    .await;
    let mut settings = settings(Mode::Enforce);
    (settings.max_per_minute, settings.max_per_run) = (30, 10);
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = ReconcileMetrics::register(&mut registry);
    let mut executor = Executor::new(settings, metrics.clone());
    let blind_until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < blind_until {
        let report = executor
            .run_once(&harness.model, harness.clock.as_ref(), &harness.client)
            .await;
        assert!(report.executed.is_empty(), "executed while blind");
        assert_eq!(report.planned, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metrics.get(ActionKind::DeleteStuckPod, Outcome::SkippedBlind),
        200
    );
    assert_eq!(
        harness.gaps("worker-2").len(),
        200,
        "nothing changed while blind"
    );
    assert!(executor.handle().response().blind.is_some());

    harness.set_blind(false);
    let started = Instant::now();
    // Each run decides at a moment between these two stamps: the executor reads the clock after
    // its live list of DaemonSets, and at 60x that moves its decisions seconds of cluster time.
    let mut runs: Vec<(i64, i64, usize)> = Vec::new();
    while metrics.get(ActionKind::DeleteStuckPod, Outcome::Executed) < 200 {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "too slow: {runs:?}"
        );
        let before = harness.clock.now().as_second();
        let report = executor
            .run_once(&harness.model, harness.clock.as_ref(), &harness.client)
            .await;
        let after = harness.clock.now().as_second();
        let executed = report
            .executed
            .iter()
            .filter(|(_, o)| *o == Outcome::Executed)
            .count();
        assert!(report.executed.len() <= 10, "max_per_run");
        runs.push((before, after, executed));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Runs that certainly decided within one minute of run i's earliest moment may hold 30 at most.
    for (i, (start, _, _)) in runs.iter().enumerate() {
        let in_minute: usize = runs[i..]
            .iter()
            .filter(|(_, after, _)| *after < start + 60)
            .map(|(_, _, n)| n)
            .sum();
        assert!(
            in_minute <= 30,
            "more than 30 in the minute from {start}: {runs:?}"
        );
    }
    // The last decision came no later than the last after-stamp, the first no earlier than the
    // first before-stamp.
    let span = runs.last().unwrap().1 - runs.first().unwrap().0;
    assert!(
        span >= 6 * 60,
        "200 at 30 a minute take over 6 minutes, took {span}s"
    );
    eprintln!(
        "200 stuck pods force-deleted in {span}s of cluster time ({:.1}s real, {} runs)",
        started.elapsed().as_secs_f64(),
        runs.len()
    );
    eventually(
        Duration::from_secs(10),
        "every stuck cell closes",
        async || harness.gaps("worker-2").is_empty().then_some(()),
    )
    .await;
    let events = harness.dsguard_events("kube-system").await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.reason.as_deref() == Some("ForceDeleted"))
            .count(),
        400,
        "one Event on each pod and one on each DaemonSet"
    );
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_plans_the_force_delete_and_only_the_leader_executes_it() {
    let harness = Harness::start(scenario_file("reconcile-stuck.yaml"), 20.0).await;
    harness.until(Duration::from_secs(95)).await;
    let (executor, metrics) = executor(Mode::Enforce);
    let (leader, leadership) = tokio::sync::watch::channel(dsguard::cluster::Leadership {
        identity: "dsguard-b".into(),
        leading: false,
        holder: Some("dsguard-a".into()),
    });
    let mut executor = executor.with_leadership(leadership);
    let handle = executor.handle();
    let action = eventually(
        Duration::from_secs(10),
        "the stuck pod in the follower's plan",
        async || {
            let report = executor
                .run_once(&harness.model, harness.clock.as_ref(), &harness.client)
                .await;
            assert!(report.executed.is_empty() && report.reported.is_empty());
            handle.latest().plan.and_then(|plan| {
                plan.actions
                    .into_iter()
                    .find(|a| a.kind == ActionKind::DeleteStuckPod && a.executable)
            })
        },
    )
    .await;
    let pod = action.pod.clone().unwrap();
    for _ in 0..5 {
        let report = executor
            .run_once(&harness.model, harness.clock.as_ref(), &harness.client)
            .await;
        assert!(report.executed.is_empty(), "a follower executes nothing");
    }
    assert_eq!(
        metrics.get(ActionKind::DeleteStuckPod, Outcome::Executed),
        0
    );
    assert!(harness.pod_exists(&pod).await);

    leader.send_modify(|l| l.leading = true);
    eventually(
        Duration::from_secs(10),
        "the leader's force delete",
        async || {
            let report = executor
                .run_once(&harness.model, harness.clock.as_ref(), &harness.client)
                .await;
            report
                .executed
                .into_iter()
                .find(|(a, o)| a.kind == ActionKind::DeleteStuckPod && *o == Outcome::Executed)
        },
    )
    .await;
    assert_eq!(
        metrics.get(ActionKind::DeleteStuckPod, Outcome::Executed),
        1
    );
    harness.stop().await;
}
