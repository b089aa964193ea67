//! From the moment the simulated API server marks a node `Ready=Unknown` to the moment a webhook
//! receiver holds dsguard's `DaemonSetPodsStranded` notification, with every grace period, `for`
//! and group wait at zero. The moment of marking is taken by an independent watch on the
//! simulator (so both sides include one watch delivery); dsguard runs in-process through its real
//! path: kube watcher, model task, alert engine, dispatcher, HTTP.
//!
//! Then the same with dsguard and the simulator each in its own process, over many failures at
//! random moments (`alert_latency/process.rs`): p50 / p99 / max.
//!
//! Run: `cargo bench --bench alert_latency`. Prints its figures.

#[path = "alert_latency/process.rs"]
mod process;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use dsguard::settings::Settings;
use dsguard::simulated;
use dsguard_sim::scenario::Scenario;
use dsguard_sim::{SimOptions, Simulation};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::{WatchStreamExt, watcher};

const FAILURES: usize = 5;

fn scenario() -> Scenario {
    let mut timeline = String::new();
    for i in 0..FAILURES {
        timeline.push_str(&format!(
            "  - {{ at: {}s, fail_node: worker-{} }}\n",
            10 + 8 * i,
            i + 1
        ));
    }
    let yaml = format!(
        "name: latency\ndescription: Nodes fail one by one.\n\
         settings: {{ node_monitor_grace: 3s, pod_start_delay: 0s, pod_ready_delay: 1s, duration: 120s }}\n\
         nodes:\n  - {{ name: worker, count: {} }}\n\
         daemonsets:\n  - {{ name: agent, namespace: kube-system }}\n\
         timeline:\n{timeline}",
        FAILURES + 2
    );
    Scenario::from_yaml(&yaml, "latency").expect("valid scenario")
}

fn settings(hook: &str) -> Settings {
    let path = std::env::temp_dir().join(format!("dsguard-latency-{}.yaml", std::process::id()));
    std::fs::write(
        &path,
        format!(
            "coverage:\n  grace: {{ stranded: 0s }}\nalerting:\n  route: {{ receiver: hook, group_wait: 0s, group_interval: 1s }}\n\
             notify:\n  receivers:\n    - {{ name: hook, webhook: {{ url: \"{hook}\" }} }}\n"
        ),
    )
    .unwrap();
    Settings::load_with_env(Some(&path), Vec::new()).expect("settings")
}

type Stamps = Arc<Mutex<Vec<(String, Instant)>>>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let received: Stamps = Arc::default();
    let hook_app = axum::Router::new().route(
        "/hook",
        post({
            let received = received.clone();
            move |axum::Json(body): axum::Json<serde_json::Value>| async move {
                let now = Instant::now();
                for alert in body["alerts"].as_array().into_iter().flatten() {
                    if alert["labels"]["alertname"] == "DaemonSetPodsStranded"
                        && alert["status"] == "firing"
                    {
                        let node = alert["labels"]["node"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        received.lock().unwrap().push((node, now));
                    }
                }
                "ok"
            }
        }),
    );
    let hook_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", hook_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(hook_listener, hook_app).await });

    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulation::start(scenario(), sim_listener, SimOptions::default())
        .await
        .expect("simulator");
    let client = kube::Client::try_from(kube::Config::new(sim.url().parse().unwrap())).unwrap();

    // The independent observer: when does each node turn Unknown on the API server?
    let marked: Stamps = Arc::default();
    let observer = {
        let marked = marked.clone();
        let nodes: kube::Api<Node> = kube::Api::all(client.clone());
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
                    .any(|c| c.type_ == "Ready" && c.status == "Unknown");
                let name = node.metadata.name.unwrap_or_default();
                let mut marked = marked.lock().unwrap();
                if unknown && !marked.iter().any(|(n, _)| *n == name) {
                    marked.push((name, Instant::now()));
                }
            }
        })
    };

    let dsguard = simulated::Dsguard::start(&sim, settings(&hook), simulated::Attach::default())
        .await
        .expect("dsguard starts");

    let deadline = Instant::now() + Duration::from_secs(90);
    while received.lock().unwrap().len() < FAILURES && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let marked = marked.lock().unwrap().clone();
    let received = received.lock().unwrap().clone();
    println!(
        "node marked Unknown -> webhook holds DaemonSetPodsStranded (grace, for, group wait 0):"
    );
    let mut latencies = Vec::new();
    for (node, at) in &marked {
        match received.iter().find(|(n, _)| n == node) {
            Some((_, got)) => {
                let latency = got.saturating_duration_since(*at);
                latencies.push(latency);
                println!("  {node:<10} {:>7.1} ms", latency.as_secs_f64() * 1000.0);
            }
            None => println!("  {node:<10} never notified"),
        }
    }
    latencies.sort();
    if let (Some(min), Some(max)) = (latencies.first(), latencies.last()) {
        println!(
            "  {} failures: min {:.1} ms, median {:.1} ms, max {:.1} ms",
            latencies.len(),
            min.as_secs_f64() * 1000.0,
            latencies[latencies.len() / 2].as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0
        );
    }
    let _ = dsguard.stop().await;
    observer.abort();
    sim.stop().await;
    println!();
    process::run().await;
}
