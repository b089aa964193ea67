//! Fault injection: every fault does what it says, over real HTTP, and never hangs a client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dsguard_sim::clock::SimClock;
use dsguard_sim::duration::Dur;
use dsguard_sim::engine::Engine;
use dsguard_sim::faults::{FaultConfig, Faults};
use dsguard_sim::store::Store;
use dsguard_sim::testing::*;

const CLUSTER: &str = "
name: faults
nodes:
  - { name: w, count: 3 }
daemonsets:
  - { name: agent, namespace: dsg }
";

#[tokio::test]
async fn a_truncated_body_breaks_off_and_the_next_answer_is_whole() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let whole = get(addr, "/api/v1/pods").await;
    sim.faults.set(FaultConfig {
        truncate_rate: 1.0,
        ..FaultConfig::default()
    });
    let cut = get(addr, "/api/v1/pods").await;
    assert_eq!(cut.status, 200);
    assert!(
        cut.body.len() < whole.body.len(),
        "{} < {}",
        cut.body.len(),
        whole.body.len()
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&cut.body).is_err());
    let client =
        kube::Client::try_from(kube::Config::new(sim.url().parse().expect("url"))).expect("client");
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::all(client);
    assert!(
        pods.list(&Default::default()).await.is_err(),
        "the kube client sees the cut"
    );
    sim.faults.set(FaultConfig::default());
    assert_eq!(
        pods.list(&Default::default())
            .await
            .expect("whole again")
            .items
            .len(),
        3
    );
    sim.stop().await;
}

#[tokio::test]
async fn errors_come_with_a_probability_or_for_the_next_requests() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    sim.faults.set(FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::default()
    });
    let failed = get(addr, "/api/v1/nodes").await;
    assert_eq!(failed.status, 500);
    let status = failed.json();
    assert_eq!(
        (
            status["kind"].as_str(),
            status["reason"].as_str(),
            status["code"].as_u64()
        ),
        (Some("Status"), Some("InternalError"), Some(500))
    );
    assert_eq!(
        get(addr, "/version").await.status,
        200,
        "only the API paths fail"
    );
    sim.faults.set(FaultConfig {
        fail_next_requests: 2,
        ..FaultConfig::default()
    });
    let codes = [
        get(addr, "/api/v1/nodes").await.status,
        get(addr, "/api/v1/nodes").await.status,
        get(addr, "/api/v1/nodes").await.status,
    ];
    assert_eq!(codes, [503, 503, 200]);
    sim.stop().await;
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let quick = Instant::now();
    get(addr, "/api/v1/nodes").await;
    let baseline = quick.elapsed();
    sim.faults.set(FaultConfig {
        latency: Some(Dur(Duration::from_millis(300))),
        ..FaultConfig::default()
    });
    let slow = Instant::now();
    assert_eq!(get(addr, "/api/v1/nodes").await.status, 200);
    assert!(
        slow.elapsed() >= Duration::from_millis(300),
        "{:?} (baseline {baseline:?})",
        slow.elapsed()
    );
    sim.stop().await;
}

#[tokio::test]
async fn watches_are_dropped_early_or_answered_with_410() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    sim.faults.set(FaultConfig {
        drop_watches_after: Some(Dur(Duration::from_millis(300))),
        ..FaultConfig::default()
    });
    let rv = get(addr, "/api/v1/nodes").await.json()["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    let started = Instant::now();
    let mut watch = Watch::open(
        addr,
        &format!("/api/v1/nodes?watch=true&resourceVersion={rv}&timeoutSeconds=60"),
    )
    .await;
    assert_eq!(watch.status, 200);
    assert!(
        watch.next(Duration::from_secs(5)).await.is_none(),
        "the stream ends"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "dropped after 300 ms, not after 60 s"
    );
    sim.faults.set(FaultConfig {
        expire_next_watches: 1,
        ..FaultConfig::default()
    });
    let mut expired = Watch::open(
        addr,
        &format!("/api/v1/nodes?watch=true&resourceVersion={rv}"),
    )
    .await;
    let event = expired
        .next(Duration::from_secs(5))
        .await
        .expect("an ERROR event");
    assert_eq!(
        (
            event["type"].as_str(),
            event["object"]["code"].as_u64(),
            event["object"]["reason"].as_str()
        ),
        (Some("ERROR"), Some(410), Some("Expired"))
    );
    let mut fine = Watch::open(
        addr,
        &format!("/api/v1/nodes?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    assert!(
        fine.next(Duration::from_secs(3))
            .await
            .is_none_or(|e| e["type"] != "ERROR"),
        "only the next watch"
    );
    sim.stop().await;
}

#[test]
fn a_scenario_sets_and_clears_faults_on_its_timeline() {
    let text = format!(
        "{CLUSTER}timeline:\n  - {{ at: 10s, api_fault: {{ error_rate: 0.5, latency: 20ms, drop_watches_after: 5s }} }}\n  - {{ at: 20s, api_fault: {{}} }}\n"
    );
    let store = Arc::new(Store::new(SimClock::new(1.0), 1000));
    let faults = Arc::new(Faults::default());
    let mut engine = Engine::new(store, faults.clone(), scenario(&text));
    engine.bootstrap().expect("bootstrap");
    engine.advance_to(Duration::from_secs(9));
    assert_eq!(faults.config(), FaultConfig::default());
    engine.advance_to(Duration::from_secs(10));
    let set = faults.config();
    assert_eq!(
        (set.error_rate, set.latency, faults.watch_lifetime()),
        (
            0.5,
            Some(Dur(Duration::from_millis(20))),
            Some(Duration::from_secs(5))
        )
    );
    engine.advance_to(Duration::from_secs(20));
    assert_eq!(faults.config(), FaultConfig::default());
}
