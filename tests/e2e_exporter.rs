//! dsguard end to end: the simulated API server over HTTP, dsguard through the real `kube`
//! client and watchers, assertions on its real HTTP endpoints. The expected cell states are the
//! ones written by hand in the scenario files' `expect:` blocks.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use std::time::Duration;

use dsguard::app;
use dsguard::settings::Settings;
use dsguard::simulated;
use dsguard_sim::Simulation;
use dsguard_sim::faults::FaultConfig;
use dsguard_sim::scenario::Scenario;
use dsguard_sim::testing::{eventually, get, options, request, scenario, scenario_file, start};
use serde_json::Value;
use tokio::sync::broadcast;

/// dsguard on the shared harness, with its transitions and a few readers of its API.
struct Dsguard {
    inner: simulated::Dsguard,
    addr: SocketAddr,
    transitions: broadcast::Receiver<dsguard::coverage::Transition>,
}

impl Dsguard {
    async fn start(sim: &Simulation, settings: Settings) -> Self {
        let (sender, transitions) = broadcast::channel(app::TRANSITION_BROADCAST);
        let attach = simulated::Attach {
            transitions: Some(sender),
            ..Default::default()
        };
        let inner = simulated::Dsguard::start(sim, settings, attach)
            .await
            .expect("dsguard starts");
        Self {
            addr: inner.addr,
            inner,
            transitions,
        }
    }

    async fn json(&self, path: &str) -> (u16, Value) {
        let reply = get(self.addr, path).await;
        (reply.status, reply.json())
    }

    async fn metrics(&self) -> String {
        String::from_utf8(get(self.addr, "/metrics").await.body).unwrap()
    }

    async fn ready(&self) {
        let addr = self.addr;
        eventually(Duration::from_secs(20), "dsguard ready", async || {
            (get(addr, "/readyz").await.status == 200).then_some(())
        })
        .await;
    }

    /// Every cell of a DaemonSet, by node; absent cells are excluded.
    async fn cells(&self, daemonset: &str) -> BTreeMap<String, (String, String)> {
        let (status, body) = self.json(&format!("/api/v1/daemonsets/{daemonset}")).await;
        if status != 200 {
            return BTreeMap::new();
        }
        body["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
                (s("node"), (s("state"), s("reason")))
            })
            .collect()
    }

    async fn stop(self) {
        self.inner.stop().await.expect("dsguard ends cleanly");
    }
}

/// Plays a scenario and checks every `expect:` block at its moment. A cell may take a little
/// scenario time to catch up (watch latency, tick resolution), never more than `slack`.
async fn play(scenario: Scenario, speed: f64, slack: Duration) -> (Simulation, Dsguard) {
    let expectations = scenario.expect.clone();
    let sim = start(scenario, options(speed)).await;
    let dsguard = Dsguard::start(&sim, Settings::default()).await;
    dsguard.ready().await;
    for expectation in expectations {
        let at = expectation.at.0;
        while sim.elapsed() < at {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        loop {
            let mut wrong = Vec::new();
            for cell in &expectation.cells {
                let cells = dsguard.cells(&cell.daemonset).await;
                let want = serde_json::to_value(cell.state).unwrap();
                let got = cells
                    .get(&cell.node)
                    .map_or("excluded", |(state, _)| state.as_str());
                if got != want.as_str().unwrap() {
                    wrong.push(format!(
                        "{} on {}: {got}, want {want}",
                        cell.daemonset, cell.node
                    ));
                }
            }
            if wrong.is_empty() {
                break;
            }
            assert!(
                sim.elapsed() < at + slack,
                "at {}s of scenario time: {}",
                at.as_secs(),
                wrong.join("; ")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    (sim, dsguard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_scenario_plays_out_as_its_expectations_say() {
    let (sim, dsguard) = play(scenario_file("demo.yaml"), 20.0, Duration::from_secs(10)).await;

    // After the story: the replacement's storage-agent pod is pending for lack of cpu, with the
    // scheduler's words.
    let (_, body) = dsguard.json("/api/v1/coverage?node=worker-5").await;
    let gap = &body["gaps"][0];
    assert_eq!(
        (gap["daemonset"].as_str(), gap["state"].as_str()),
        (Some("storage-agent"), Some("pending"))
    );
    assert_eq!(gap["reason"], "unschedulable");
    assert!(
        gap["detail"].as_str().unwrap().contains("Insufficient cpu"),
        "{gap}"
    );

    let (_, incidents) = dsguard.json("/api/v1/incidents").await;
    let all: Vec<&Value> = incidents["open"]
        .as_array()
        .unwrap()
        .iter()
        .chain(incidents["closed"].as_array().unwrap())
        .collect();
    let worker3 = all
        .iter()
        .find(|i| i["node"] == "worker-3")
        .expect("worker-3's incident");
    assert_eq!(worker3["lost"].as_array().unwrap().len(), 3, "{worker3}");
    assert!(worker3["node_deleted"].is_string());

    let metrics = dsguard.metrics().await;
    assert!(metrics.contains(
        r#"dsguard_gap_age_seconds{namespace="kube-system",daemonset="storage-agent",node="worker-5",state="pending",reason="unschedulable"}"#
    ), "{metrics}");
    assert!(metrics.contains("dsguard_blind 0"));
    dsguard.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_failure_scenario_plays_out_including_recoveries() {
    let (sim, dsguard) = play(
        scenario_file("rolling-failure.yaml"),
        20.0,
        Duration::from_secs(10),
    )
    .await;
    let metrics = dsguard.metrics().await;
    let replaced = metrics
        .lines()
        .find(|l| l.starts_with("dsguard_replacement_duration_seconds_count"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap();
    assert!(
        replaced > 0,
        "recovered nodes' pods were replaced and timed: {metrics}"
    );
    dsguard.stop().await;
    sim.stop().await;
}

const STEADY: &str = r#"
name: steady
description: Four healthy workers, two DaemonSets, nothing happens.
settings:
  pod_start_delay: 1s
  pod_ready_delay: 1s
  duration: 3600s
nodes:
  - { name: worker, count: 4, labels: { node-type: worker } }
daemonsets:
  - { name: log-agent, namespace: kube-system, tolerations: [ { operator: Exists } ] }
  - { name: node-exporter, namespace: monitoring, node_selector: { node-type: worker } }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_410s_and_5xx_leave_the_state_right_and_invent_no_gap() {
    // Every watch is cut after 700 ms from the start, so watches reconnect all the time.
    let dropping = FaultConfig {
        drop_watches_after: Some("700ms".parse().unwrap()),
        ..FaultConfig::default()
    };
    let mut sim_options = options(1.0);
    sim_options.faults = dropping.clone();
    let sim = start(scenario(STEADY), sim_options).await;
    // Let the pods become ready before dsguard looks.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut dsguard = Dsguard::start(&sim, Settings::default()).await;
    dsguard.ready().await;
    let (_, before) = dsguard.json("/api/v1/coverage").await;
    assert_eq!(
        before["gaps"],
        Value::Array(vec![]),
        "a healthy cluster has no gap"
    );

    // Then 410s on the next watches, a burst of 503s, and 30% 500s for four seconds.
    sim.faults.set(FaultConfig {
        error_rate: 0.3,
        ..dropping.clone()
    });
    sim.faults.expire_next_watches(3);
    sim.faults.fail_next(10);
    tokio::time::sleep(Duration::from_secs(4)).await;
    sim.faults.set(FaultConfig::default());

    let addr = dsguard.addr;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = dsguard.metrics().await;
        let ready = get(addr, "/readyz").await.status == 200;
        let failures: u64 = metrics
            .lines()
            .filter(|l| l.starts_with("dsguard_watch_failures_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        if ready && failures > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not back in sync (ready: {ready}):\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, after) = dsguard.json("/api/v1/coverage").await;
    assert_eq!(after["gaps"], Value::Array(vec![]));
    assert_eq!(
        after["daemonsets"], before["daemonsets"],
        "the same numbers as before the faults"
    );
    let mut invented = Vec::new();
    while let Ok(t) = dsguard.transitions.try_recv() {
        invented.push(format!("{t:?}"));
    }
    assert!(invented.is_empty(), "no cell changed: {invented:?}");
    let metrics = dsguard.metrics().await;
    let lists: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("dsguard_watch_lists_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(
        lists > 3,
        "the watches were really lost and relisted: {lists} lists"
    );
    dsguard.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_api_server_makes_dsguard_blind_within_the_staleness_bound_and_metrics_stay_up() {
    let sim = start(scenario(STEADY), options(1.0)).await;
    let mut settings = Settings::default();
    settings.watch.staleness = dsguard::base::Duration(jiff::SignedDuration::from_secs(3));
    let dsguard = Dsguard::start(&sim, settings).await;
    dsguard.ready().await;
    let stopped_at = std::time::Instant::now();
    sim.stop().await;

    let addr = dsguard.addr;
    let body = eventually(Duration::from_secs(20), "dsguard blind", async || {
        let reply = get(addr, "/readyz").await;
        (reply.status == 503).then(|| reply.json())
    })
    .await;
    let took = stopped_at.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "not blind before the bound: {took:?}"
    );
    assert!(
        took < Duration::from_secs(3 + 5),
        "blind within the bound plus backoff: {took:?}"
    );
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .contains("watch has been failing since"),
        "{body}"
    );
    let metrics = dsguard.metrics().await;
    assert!(metrics.contains("dsguard_blind 1"), "{metrics}");
    assert!(metrics.contains("dsguard_blind_since_timestamp_seconds "));
    dsguard.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_exposition_of_a_live_incident() {
    let promtool = "/usr/bin/promtool";
    assert!(
        std::path::Path::new(promtool).exists(),
        "promtool is missing: .ci/install installs Debian's prometheus package"
    );
    let (sim, dsguard) = {
        let mut scenario = scenario_file("demo.yaml");
        scenario
            .expect
            .retain(|e| e.at.0 <= Duration::from_secs(120));
        play(scenario, 20.0, Duration::from_secs(10)).await
    };
    let mut settings_full = Settings::default();
    settings_full.metrics.full_matrix = true;
    let full = Dsguard::start(&sim, settings_full).await;
    full.ready().await;
    for exposition in [dsguard.metrics().await, full.metrics().await] {
        assert!(
            exposition.contains("state=\"stranded\""),
            "the incident is in the exposition"
        );
        let mut child = std::process::Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(exposition.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    full.stop().await;
    dsguard.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_daemon_pod_is_counted_and_skipped_and_nothing_else_changes() {
    let sim = start(scenario(STEADY), options(1.0)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let dsguard = Dsguard::start(&sim, Settings::default()).await;
    dsguard.ready().await;
    let (_, before) = dsguard.json("/api/v1/coverage").await;
    // A daemon pod (it carries the label the watch selects) whose phase is not a string.
    let body = r#"{"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "broken", "namespace": "kube-system", "labels": {"pod-template-generation": "1"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": 42}}"#;
    let created = request(
        sim.addr(),
        "POST",
        "/api/v1/namespaces/kube-system/pods",
        &[("Content-Type", "application/json")],
        Some(body),
    )
    .await;
    assert!(
        created.status == 201 || created.status == 200,
        "the simulator stores it: {}",
        String::from_utf8_lossy(&created.body)
    );
    let addr = dsguard.addr;
    eventually(
        Duration::from_secs(10),
        "the malformed pod counted",
        async || {
            let metrics = String::from_utf8(get(addr, "/metrics").await.body).unwrap();
            metrics
                .contains(r#"dsguard_malformed_objects_total{resource="pods",reason="schema"} 1"#)
                .then_some(())
        },
    )
    .await;
    assert_eq!(get(addr, "/readyz").await.status, 200, "still ready");
    let (_, after) = dsguard.json("/api/v1/coverage").await;
    assert_eq!(after["daemonsets"], before["daemonsets"]);
    assert_eq!(after["gaps"], Value::Array(vec![]));
    dsguard.stop().await;
    sim.stop().await;
}
