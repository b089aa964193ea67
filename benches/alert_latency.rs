//! From the moment the simulated API server marks a node `Ready=Unknown` to the moment dsguard's
//! `DaemonSetPodsStranded` fires, with `for` and group wait at zero, measured three ways over
//! [`FAILURES`] node failures each:
//!
//! - `decided`: the alert engine decides the notification (in process, grace 0), the moment the
//!   alert fires;
//! - `webhook`: a webhook receiver holds it (through the dispatcher and HTTP, grace 0);
//! - `deadline`: with a stranded grace of [`GRACE`], how late after the grace ends the engine
//!   decides it (the deadline-driven path: dsguard sleeps until the grace ends).
//!
//! The moment of marking is taken by an independent watch on the simulator (so both sides
//! include one watch delivery); dsguard runs in-process through its real path: kube watcher,
//! model task, alert engine (dispatcher, HTTP). Each run starts dsguard at a random phase.
//!
//! Then the webhook way again with dsguard and the simulator each in its own process, as
//! deployed, over 48 failures across 8 `dsguard run` processes (`alert_latency/process.rs`).
//!
//! Run: `cargo bench --bench alert_latency`. Prints p50 / p99 / max per way.

#[path = "alert_latency/process.rs"]
mod process;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use dsguard::notification::{Notification, Status};
use dsguard::settings::Settings;
use dsguard::simulated;
use dsguard_sim::scenario::Scenario;
use dsguard_sim::{SimOptions, Simulation};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::{WatchStreamExt, watcher};

/// Node failures per way (at least 40, for a p99 that is not just the maximum).
const FAILURES: usize = 40;
/// Scenario time between two failures: more than the simulator's 1 s controller pass, so that
/// each failure is marked on its own pass.
const SPACING_MS: usize = 1500;
/// Scenario seconds per real second. Not a whole number: the simulator's 1 s pass and a
/// periodic evaluation (250 ms before deadlines) would otherwise keep one phase for every
/// failure; it also makes dsguard convert its deadlines from scenario time to real sleeps.
const SPEED: f64 = 2.7;
/// The stranded grace period of the `deadline` way, in scenario seconds.
const GRACE: i64 = 2;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Way {
    Decided,
    Webhook,
    Deadline,
}

fn scenario() -> Scenario {
    let mut timeline = String::new();
    for i in 0..FAILURES {
        timeline.push_str(&format!(
            "  - {{ at: {}ms, fail_node: worker-{} }}\n",
            10_000 + SPACING_MS * i,
            i + 1
        ));
    }
    let yaml = format!(
        "name: latency\ndescription: Nodes fail one by one.\n\
         settings: {{ node_monitor_grace: 3s, pod_start_delay: 0s, pod_ready_delay: 1s, duration: 600s }}\n\
         nodes:\n  - {{ name: worker, count: {} }}\n\
         daemonsets:\n  - {{ name: agent, namespace: kube-system }}\n\
         timeline:\n{timeline}",
        FAILURES + 2
    );
    Scenario::from_yaml(&yaml, "latency").expect("valid scenario")
}

fn settings(hook: &str, grace: i64) -> Settings {
    let path = std::env::temp_dir().join(format!("dsguard-latency-{}.yaml", std::process::id()));
    std::fs::write(
        &path,
        format!(
            "coverage:\n  grace: {{ stranded: {grace}s }}\nalerting:\n  route: {{ receiver: hook, group_wait: 0s, group_interval: 1s }}\n\
             notify:\n  receivers:\n    - {{ name: hook, webhook: {{ url: \"{hook}\" }} }}\n"
        ),
    )
    .unwrap();
    Settings::load_with_env(Some(&path), Vec::new()).expect("settings")
}

/// Per node, when it was seen: the real moment, and the scenario time (since the simulation
/// started) that means for the `deadline` way.
type Stamps = Arc<Mutex<Vec<(String, Instant, Duration)>>>;

fn stamp(stamps: &Stamps, node: &str, at: Instant, scenario: Duration) {
    let mut stamps = stamps.lock().unwrap();
    if !stamps.iter().any(|(n, _, _)| n == node) {
        stamps.push((node.to_owned(), at, scenario));
    }
}

/// The nodes whose `DaemonSetPodsStranded` a notification fires.
fn stranded_nodes(notification: &Notification) -> Vec<String> {
    notification
        .alerts
        .iter()
        .filter(|a| a.status == Status::Firing)
        .filter(|a| a.labels.get("alertname").map(String::as_str) == Some("DaemonSetPodsStranded"))
        .filter_map(|a| a.labels.get("node").cloned())
        .collect()
}

/// A webhook receiver that stamps what it holds; returns its URL.
async fn webhook(received: Stamps) -> String {
    let hook_app = axum::Router::new().route(
        "/hook",
        post(
            move |axum::Json(body): axum::Json<serde_json::Value>| async move {
                let now = Instant::now();
                for alert in body["alerts"].as_array().into_iter().flatten() {
                    if alert["labels"]["alertname"] == "DaemonSetPodsStranded"
                        && alert["status"] == "firing"
                    {
                        let node = alert["labels"]["node"].as_str().unwrap_or_default();
                        stamp(&received, node, now, Duration::ZERO);
                    }
                }
                "ok"
            },
        ),
    );
    let hook_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", hook_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(hook_listener, hook_app).await });
    hook
}

/// The independent observer: when does each node turn Unknown on the API server, and when
/// (scenario time) does its stranded grace end?
fn observe(client: kube::Client, sim: &Simulation, marked: Stamps) -> tokio::task::JoinHandle<()> {
    let clock = sim.store.clock().clone();
    let nodes: kube::Api<Node> = kube::Api::all(client);
    tokio::spawn(async move {
        let mut stream = watcher(nodes, watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .boxed();
        while let Some(Ok(node)) = stream.next().await {
            let unknown = node
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .find(|c| c.type_ == "Ready" && c.status == "Unknown");
            if let Some(ready) = unknown {
                let since = ready.last_transition_time.as_ref().map(|t| t.0);
                let grace_ends = since
                    .map(|t| clock.scenario_time_of(t) + Duration::from_secs(GRACE as u64))
                    .unwrap_or_default();
                let name = node.metadata.name.unwrap_or_default();
                stamp(&marked, &name, Instant::now(), grace_ends);
            }
        }
    })
}

/// One way, [`FAILURES`] failures: the latencies in milliseconds (negative: too early).
async fn run(way: Way) -> Vec<f64> {
    let received: Stamps = Arc::default();
    let hook = webhook(received.clone()).await;
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = SimOptions {
        speed: SPEED,
        ..SimOptions::default()
    };
    let sim = Simulation::start(scenario(), sim_listener, options)
        .await
        .expect("simulator");
    let client = kube::Client::try_from(kube::Config::new(sim.url().parse().unwrap())).unwrap();
    let marked: Stamps = Arc::default();
    let observer = observe(client, &sim, marked.clone());

    // A random phase between dsguard and the simulator's passes.
    let phase = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(phase))).await;
    let (grace, mut attach) = match way {
        Way::Deadline => (GRACE, simulated::Attach::default()),
        _ => (0, simulated::Attach::default()),
    };
    let decided = (way != Way::Webhook).then(|| {
        let (sender, mut decisions) = tokio::sync::mpsc::channel::<Notification>(1024);
        attach.notifications = Some(sender);
        let (received, clock) = (received.clone(), sim.store.clock().clone());
        tokio::spawn(async move {
            while let Some(notification) = decisions.recv().await {
                let (now, scenario) = (Instant::now(), clock.elapsed());
                for node in stranded_nodes(&notification) {
                    stamp(&received, &node, now, scenario);
                }
            }
        })
    });
    let dsguard = simulated::Dsguard::start(&sim, settings(&hook, grace), attach)
        .await
        .expect("dsguard starts");

    let deadline = Instant::now() + Duration::from_secs(120);
    while received.lock().unwrap().len() < FAILURES && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let marked = marked.lock().unwrap().clone();
    let received = received.lock().unwrap().clone();
    let mut latencies = Vec::new();
    for (node, at, grace_ends) in &marked {
        match received.iter().find(|(n, _, _)| n == node) {
            Some((_, got, _)) if way != Way::Deadline => {
                latencies.push(got.saturating_duration_since(*at).as_secs_f64() * 1000.0);
            }
            Some((_, _, scenario)) => {
                let late = scenario.as_secs_f64() - grace_ends.as_secs_f64();
                latencies.push(late / SPEED * 1000.0);
            }
            None => println!("  {way:?}: {node} never notified"),
        }
    }
    let _ = dsguard.stop().await;
    if let Some(task) = decided {
        task.abort();
    }
    observer.abort();
    sim.stop().await;
    latencies
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    println!(
        "node marked Unknown -> DaemonSetPodsStranded fires (for 0, group wait 0), {FAILURES} failures per way, speed {SPEED}:"
    );
    // `DSGUARD_BENCH_PROCESS_ONLY=1`: only the measurement with dsguard in its own process.
    let ways = match std::env::var_os("DSGUARD_BENCH_PROCESS_ONLY") {
        Some(_) => Vec::new(),
        None => vec![Way::Decided, Way::Webhook, Way::Deadline],
    };
    for way in ways {
        let mut latencies = run(way).await;
        latencies.sort_by(f64::total_cmp);
        let what = match way {
            Way::Decided => "decided in process (grace 0), ms after the mark",
            Way::Webhook => "webhook holds it (grace 0), ms after the mark",
            Way::Deadline => "decided in process (grace 2s), ms after the grace ends",
        };
        if latencies.is_empty() {
            println!("  {what}: nothing measured");
            continue;
        }
        println!(
            "  {what}: n {} p50 {:.1} p99 {:.1} max {:.1} min {:.1}",
            latencies.len(),
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0),
            percentile(&latencies, 100.0),
            latencies[0],
        );
    }
    println!();
    process::run().await;
}
