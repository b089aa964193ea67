//! Blindness and restarts end to end: the simulated API server over HTTP with injected faults,
//! dsguard through the real `kube` client and watchers, assertions on its real endpoints.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dsguard::settings::Settings;
use dsguard::simulated::{Attach, Dsguard};
use dsguard_sim::faults::FaultConfig;
use dsguard_sim::testing::{eventually, get, options, scenario, start};
use serde_json::Value;

const QUIET: &str = r#"
name: quiet
description: Three healthy nodes, one DaemonSet, nothing happens.
settings:
  pod_start_delay: 1s
  pod_ready_delay: 1s
  duration: 3600s
nodes:
  - { name: worker, count: 3 }
daemonsets:
  - { name: agent, namespace: kube-system }
"#;

async fn ready(addr: SocketAddr) -> bool {
    get(addr, "/readyz").await.status == 200
}

/// The reproducer of issue 13: a quiet cluster (no object changes at all), a spell of 50 % API
/// errors while every watch is dropped every second, then a healthy API. Watches whose restart
/// failed and then succeeded must count as healthy again although no event arrives on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_cluster_is_seen_again_once_the_api_recovers_from_errors_and_dropped_watches() {
    // Watches are dropped every second from the start (the lifetime is fixed when one starts).
    let dropping = FaultConfig {
        drop_watches_after: Some("1s".parse().unwrap()),
        ..FaultConfig::default()
    };
    let mut sim_options = options(1.0);
    sim_options.faults = dropping.clone();
    let sim = start(scenario(QUIET), sim_options).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let staleness = Duration::from_secs(3);
    let mut settings = Settings::default();
    settings.watch.staleness = dsguard::base::Duration(jiff::SignedDuration::from_secs(3));
    let dsguard = Dsguard::start(&sim, settings, Attach::default())
        .await
        .expect("dsguard starts");
    let addr = dsguard.addr;
    eventually(Duration::from_secs(20), "ready", async || {
        ready(addr).await.then_some(())
    })
    .await;

    sim.faults.set(FaultConfig {
        error_rate: 0.5,
        ..dropping
    });
    tokio::time::sleep(Duration::from_secs(8)).await;
    sim.faults.set(FaultConfig::default());
    let errors = sim
        .faults
        .counts
        .errors
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(errors > 3, "faults were injected: {errors} errors");

    // The watcher's backoff may still hold a retry for a while; then the watches are live.
    eventually(
        Duration::from_secs(40),
        "ready after the faults",
        async || ready(addr).await.then_some(()),
    )
    .await;
    // And it stays so, well past the staleness bound, with no object changing.
    let until = Instant::now() + 3 * staleness;
    while Instant::now() < until {
        let reply = get(addr, "/readyz").await;
        assert_eq!(
            reply.status,
            200,
            "blind on a healthy API: {}",
            reply.json()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let coverage = get(addr, "/api/v1/coverage").await;
    assert_eq!(coverage.status, 200);
    assert_eq!(coverage.json()["gaps"], Value::Array(vec![]));
    dsguard.stop().await.expect("dsguard ends cleanly");
    sim.stop().await;
}

const LOSSES: &str = r#"
name: losses
description: worker-2 is deleted with its pod still bound (pod GC is slow), worker-3 fails.
settings:
  node_monitor_grace: 2s
  pod_gc_delay: 1h
  pod_start_delay: 1s
  pod_ready_delay: 1s
  duration: 3600s
nodes:
  - { name: worker, count: 3 }
daemonsets:
  - { name: agent, namespace: kube-system }
timeline:
  - at: 4s
    delete_node: worker-2
  - at: 4s
    fail_node: worker-3
"#;

fn state_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsguard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// (since of the orphaned cell on worker-2, start of the open incident of worker-3), once both
/// are there.
async fn orphan_and_incident(addr: SocketAddr) -> (String, String) {
    eventually(Duration::from_secs(30), "orphan and incident", async || {
        let coverage = get(addr, "/api/v1/coverage").await;
        if coverage.status != 200 {
            return None;
        }
        let gaps = coverage.json()["gaps"].as_array().cloned()?;
        let orphan = gaps
            .iter()
            .find(|g| g["node"] == "worker-2" && g["state"] == "orphaned")?;
        let incidents = get(addr, "/api/v1/incidents").await.json();
        let incident = incidents["open"]
            .as_array()?
            .iter()
            .find(|i| i["node"] == "worker-3")?
            .clone();
        Some((
            orphan["since"].as_str()?.to_owned(),
            incident["started"].as_str()?.to_owned(),
        ))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_clock_of_an_orphaned_pod_and_the_open_incident() {
    let sim = start(scenario(LOSSES), options(1.0)).await;
    let dir = state_dir("restart-clocks");
    let mut settings = Settings::default();
    settings.notify.state_dir = Some(dir.clone());
    let first = Dsguard::start(&sim, settings.clone(), Attach::default())
        .await
        .expect("dsguard starts");
    let before = orphan_and_incident(first.addr).await;
    // Long enough that a clock started afresh at the restart would show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    first.stop().await.expect("dsguard ends cleanly");
    assert!(dir.join("model.json").exists(), "the model was saved");

    let second = Dsguard::start(&sim, settings, Attach::default())
        .await
        .expect("dsguard starts again");
    let after = orphan_and_incident(second.addr).await;
    assert_eq!(after, before, "(orphaned since, incident started) kept");
    second.stop().await.expect("dsguard ends cleanly");
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
