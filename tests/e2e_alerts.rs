//! Alerting end to end on the demo scenario: the simulator over HTTP, dsguard through the real
//! kube client, its alert engine and dispatcher, and a real webhook receiver on loopback.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use dsguard::settings::Settings;
use dsguard::simulated;
use dsguard_sim::testing::{eventually, options, scenario_file, start};
use serde_json::Value;

type Received = Arc<Mutex<Vec<(Instant, Value)>>>;

/// A webhook receiver that records every payload it is sent.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                |State(received): State<Received>, axum::Json(body): axum::Json<Value>| async move {
                    received.lock().unwrap().push((Instant::now(), body));
                    "ok"
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn settings(hook: &str) -> Settings {
    let dir = std::env::temp_dir().join(format!("dsguard-e2e-alerts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settings.yaml");
    // Grace periods short enough for the 300 s demo; orphaned keeps its default (2 m), longer
    // than the pod garbage collector takes to remove a deleted node's pods.
    std::fs::write(
        &path,
        format!(
            "coverage:\n  grace: {{ stranded: 30s, pending: 30s, missing: 60s, not_ready: 60s }}\n\
             alerting:\n  external_url: http://dsguard.test\n  route:\n    receiver: hook\n    group_wait: 0s\n    group_interval: 20s\n    repeat_interval: 60s\n\
             notify:\n  retry: {{ initial_backoff: 100ms, max_backoff: 1s, max_age: 1h }}\n  receivers:\n    - name: hook\n      webhook: {{ url: \"{hook}\" }}\n"
        ),
    )
    .unwrap();
    Settings::load_with_env(Some(&path), Vec::new()).unwrap()
}

fn alerts(payload: &Value) -> Vec<(String, String, String)> {
    payload["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let l = |k: &str| a["labels"][k].as_str().unwrap_or("").to_owned();
            (
                l("alertname"),
                l("node"),
                a["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_pages_once_for_the_failed_node_then_for_the_unreplaced_pod_with_resolves_and_repeats()
 {
    let (hook, received) = receiver().await;
    let sim = start(scenario_file("demo.yaml"), options(20.0)).await;
    let dsguard = simulated::Dsguard::start(&sim, settings(&hook), simulated::Attach::default())
        .await
        .expect("dsguard starts");

    // Play the whole scenario (300 s at 20x).
    eventually(Duration::from_secs(30), "the scenario to end", async || {
        (sim.elapsed() >= Duration::from_secs(300)).then_some(())
    })
    .await;
    let payloads: Vec<Value> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, p)| p.clone())
        .collect();
    let all: Vec<(String, String, String)> = payloads.iter().flat_map(alerts).collect();

    // Webhook payloads are shaped like Alertmanager's (version 4).
    for p in &payloads {
        assert_eq!(p["version"], "4", "{p}");
        assert_eq!(p["receiver"], "hook");
        assert!(p["groupKey"].is_string() && p["commonLabels"].is_object());
    }

    // Exactly one firing DaemonSetPodsStranded for worker-3, naming all three daemon pods.
    let stranded: Vec<&Value> = payloads
        .iter()
        .filter(|p| {
            p["status"] == "firing"
                && alerts(p)
                    .iter()
                    .any(|(name, node, _)| name == "DaemonSetPodsStranded" && node == "worker-3")
        })
        .collect();
    assert_eq!(
        stranded.len(),
        1,
        "one stranded page for worker-3: {payloads:#?}"
    );
    let description = stranded[0]["alerts"][0]["annotations"]["description"]
        .as_str()
        .unwrap();
    for ds in [
        "kube-system/log-agent",
        "monitoring/node-exporter",
        "kube-system/storage-agent",
    ] {
        assert!(description.contains(ds), "{ds} in {description}");
    }
    // No per-pod page for the failed node.
    let per_pod: Vec<_> = all
        .iter()
        .filter(|(name, node, _)| node == "worker-3" && name != "DaemonSetPodsStranded")
        .collect();
    assert!(per_pod.is_empty(), "{per_pod:?}");
    // The stranded alert resolved once the node was deleted.
    assert!(
        all.contains(&(
            "DaemonSetPodsStranded".to_owned(),
            "worker-3".to_owned(),
            "resolved".to_owned()
        )),
        "{all:?}"
    );

    // The replacement's storage-agent pod cannot start: unreplaced, with the scheduler's reason.
    let unreplaced: Vec<&Value> = payloads
        .iter()
        .flat_map(|p| p["alerts"].as_array().unwrap())
        .filter(|a| {
            a["labels"]["alertname"] == "DaemonSetPodUnreplaced"
                && a["labels"]["node"] == "worker-5"
        })
        .collect();
    assert!(!unreplaced.is_empty(), "{all:?}");
    assert_eq!(unreplaced[0]["labels"]["daemonset"], "storage-agent");
    assert_eq!(unreplaced[0]["labels"]["reason"], "unschedulable");
    assert!(
        unreplaced[0]["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains("Insufficient cpu")
    );
    assert!(
        unreplaced[0]["generatorURL"]
            .as_str()
            .unwrap()
            .starts_with("http://dsguard.test/api/v1/nodes/worker-5")
    );

    // Repeats of that group: spaced by at least the repeat interval (60 s of scenario time = 3 s).
    let times: Vec<Instant> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, p)| {
            alerts(p)
                .iter()
                .any(|(name, node, _)| name == "DaemonSetPodUnreplaced" && node == "worker-5")
        })
        .map(|(t, _)| *t)
        .collect();
    assert!(
        times.len() >= 2,
        "the unreplaced group was repeated: {} notifications",
        times.len()
    );
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(2_500),
            "repeat interval respected: {:?}",
            pair[1] - pair[0]
        );
    }

    dsguard.stop().await.expect("dsguard ends cleanly");
    sim.stop().await;
}
