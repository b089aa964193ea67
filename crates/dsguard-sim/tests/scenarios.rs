//! The shipped scenarios play out as written, at a high speed factor with the real clock
//! (`demo.yaml`), or with time moved by hand (`rolling-failure.yaml`).

use std::sync::Arc;
use std::time::Duration;

use dsguard_sim::clock::SimClock;
use dsguard_sim::engine::Engine;
use dsguard_sim::faults::Faults;
use dsguard_sim::kinds::Kind;
use dsguard_sim::store::Store;
use dsguard_sim::testing::*;
use serde_json::Value;

fn condition<'a>(object: &'a Value, kind: &str) -> &'a Value {
    object["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .unwrap_or(&Value::Null)
}

fn scenario_second(sim: &dsguard_sim::Simulation, timestamp: &Value) -> u64 {
    let ts: jiff::Timestamp = timestamp
        .as_str()
        .expect("a timestamp")
        .parse()
        .expect("RFC 3339");
    sim.store.clock().scenario_time_of(ts).as_secs()
}

async fn pods(addr: std::net::SocketAddr, query: &str) -> Vec<Value> {
    get(addr, &format!("/api/v1/pods?{query}")).await.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn ds_status(addr: std::net::SocketAddr, path: &str) -> Value {
    get(addr, &format!("/apis/apps/v1/namespaces/{path}"))
        .await
        .json()["status"]
        .clone()
}

#[tokio::test]
async fn the_demo_plays_out_as_written_at_speed_50() {
    // At 50x a second of scenario time is 20 ms: the bounds below leave a few seconds of
    // scenario time for a busy machine, no more.
    let sim = start(scenario_file("demo.yaml"), options(50.0)).await;
    let addr = sim.addr();
    // worker-3 stops at 60 s and turns Unknown one grace period (40 s) later, not before.
    let node = eventually(Duration::from_secs(10), "worker-3 Unknown", async || {
        let node = get(addr, "/api/v1/nodes/worker-3").await.json();
        let ready = condition(&node, "Ready").clone();
        if ready["status"] != "Unknown" {
            assert!(
                sim.elapsed() < Duration::from_secs(105),
                "worker-3 still Ready at {:?}",
                sim.elapsed()
            );
            return None;
        }
        Some(node)
    })
    .await;
    let ready = condition(&node, "Ready");
    assert_eq!(ready["reason"], "NodeStatusUnknown");
    let at = scenario_second(&sim, &ready["lastTransitionTime"]);
    assert!((100..=103).contains(&at), "Unknown at {at} s");
    let taints = node["spec"]["taints"].as_array().expect("taints");
    assert_eq!(taints.len(), 2);
    assert!(
        taints
            .iter()
            .all(|t| t["key"] == "node.kubernetes.io/unreachable" && t["timeAdded"].is_string())
    );
    for node in ["worker-1", "worker-2", "worker-4", "infra-1"] {
        let other = get(addr, &format!("/api/v1/nodes/{node}")).await.json();
        assert_eq!(condition(&other, "Ready")["status"], "True", "{node}");
    }
    // Its pods turn not ready; the controller stops counting worker-3 for the DaemonSets that
    // do not tolerate the unreachable taint, and counts their pod there as misscheduled.
    eventually(
        Duration::from_secs(5),
        "DaemonSet numbers after the failure",
        async || {
            let storage = ds_status(addr, "kube-system/daemonsets/storage-agent").await;
            let log = ds_status(addr, "kube-system/daemonsets/log-agent").await;
            (storage["desiredNumberScheduled"] == 3
                && storage["numberMisscheduled"] == 1
                && log["desiredNumberScheduled"] == 5
                && log["numberReady"] == 4)
                .then_some(())
        },
    )
    .await;
    for pod in pods(addr, "fieldSelector=spec.nodeName%3Dworker-3").await {
        assert_eq!(condition(&pod, "Ready")["status"], "False");
    }
    // worker-3 is deleted at 150 s; pod GC removes its pods 40 s later.
    eventually(
        Duration::from_secs(10),
        "worker-3's pods collected",
        async || {
            let left = pods(addr, "fieldSelector=spec.nodeName%3Dworker-3")
                .await
                .len();
            if left > 0 {
                assert!(
                    sim.elapsed() < Duration::from_secs(196),
                    "pods of the deleted node still there at {:?}",
                    sim.elapsed()
                );
                return None;
            }
            Some(())
        },
    )
    .await;
    assert!(
        sim.elapsed() >= Duration::from_secs(190),
        "collected too early, at {:?}",
        sim.elapsed()
    );
    // worker-5 (1 CPU) joined at 160 s: two daemon pods run, storage-agent (1500m) cannot.
    let pending = eventually(
        Duration::from_secs(5),
        "the replacement's pods",
        async || {
            let on_new = pods(addr, "fieldSelector=spec.nodeName%3Dworker-5").await;
            let pending = pods(
                addr,
                "labelSelector=app%3Dstorage-agent&fieldSelector=status.phase%3DPending",
            )
            .await;
            (on_new.len() == 2
                && on_new
                    .iter()
                    .all(|p| condition(p, "Ready")["status"] == "True")
                && pending.len() == 1)
                .then(|| pending[0].clone())
        },
    )
    .await;
    let scheduled = condition(&pending, "PodScheduled");
    assert_eq!(
        (scheduled["status"].as_str(), scheduled["reason"].as_str()),
        (Some("False"), Some("Unschedulable"))
    );
    let message = scheduled["message"].as_str().expect("message");
    assert!(
        message.starts_with("0/5 nodes are available: 1 Insufficient cpu"),
        "{message}"
    );
    let affinity = &pending["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"][0]["matchFields"][0];
    assert_eq!(affinity["values"][0], "worker-5");
    // It stays Pending.
    eventually(Duration::from_secs(10), "scenario time 260 s", async || {
        (sim.elapsed() >= Duration::from_secs(260)).then_some(())
    })
    .await;
    let still = get(
        addr,
        &format!(
            "/api/v1/namespaces/kube-system/pods/{}",
            pending["metadata"]["name"].as_str().unwrap_or("")
        ),
    )
    .await
    .json();
    assert_eq!(still["status"]["phase"], "Pending");
    sim.stop().await;
}

fn pod_on(store: &Store, ds: &str, node: &str) -> Vec<Value> {
    store
        .list(Kind::Pod, None)
        .1
        .iter()
        .map(|p| p.value())
        .filter(|p| {
            p["metadata"]["ownerReferences"][0]["name"] == ds && p["spec"]["nodeName"] == node
        })
        .collect()
}

fn waiting_reason(pod: &Value) -> &str {
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
        .as_str()
        .unwrap_or("")
}

#[test]
fn rolling_failure_plays_out_as_written() {
    let store = Arc::new(Store::new(SimClock::new(1.0), 100_000));
    let mut engine = Engine::new(
        store.clone(),
        Arc::new(Faults::default()),
        scenario_file("rolling-failure.yaml"),
    );
    engine.bootstrap().expect("bootstrap");
    let mut t = 0;
    let mut until = |engine: &mut Engine, at: u64| {
        while t <= at {
            engine.advance_to(Duration::from_secs(t));
            t += 1;
        }
    };
    until(&mut engine, 20);
    assert_eq!(
        waiting_reason(&pod_on(&store, "crashy", "worker-6")[0]),
        "CrashLoopBackOff"
    );
    assert_eq!(
        pod_on(&store, "crashy", "worker-6")[0]["status"]["phase"],
        "Running"
    );
    assert_eq!(
        waiting_reason(&pod_on(&store, "puller", "worker-5")[0]),
        "ErrImagePull"
    );
    assert_eq!(
        pod_on(&store, "puller", "worker-5")[0]["status"]["phase"],
        "Pending"
    );
    until(&mut engine, 140);
    // The rollout deleted worker-2's unavailable old pod at once; it stays Terminating on the
    // dead node, and so does node-agent's pod deleted there by hand.
    for ds in ["log-agent", "node-agent"] {
        let pods = pod_on(&store, ds, "worker-2");
        assert_eq!(pods.len(), 1, "{ds}");
        assert!(
            pods[0]["metadata"]["deletionTimestamp"].is_string(),
            "{ds} on worker-2 is terminating"
        );
    }
    let log_agent = |store: &Store| {
        store
            .get(Kind::DaemonSet, &("kube-system".into(), "log-agent".into()))
            .expect("ds")
            .value()["status"]
            .clone()
    };
    until(&mut engine, 195);
    assert!(
        log_agent(&store)["updatedNumberScheduled"].as_i64() < Some(6),
        "the rollout is held while worker-2 is down"
    );
    until(&mut engine, 250);
    assert!(
        pod_on(&store, "log-agent", "worker-2").is_empty(),
        "pod GC removed worker-2's pods"
    );
    // The rollout then goes on, one node at a time.
    until(&mut engine, 450);
    let status = log_agent(&store);
    assert_eq!(
        (
            status["desiredNumberScheduled"].as_i64(),
            status["updatedNumberScheduled"].as_i64(),
            status["numberReady"].as_i64()
        ),
        (Some(5), Some(5), Some(5)),
        "{status}"
    );
    let node = store
        .get(Kind::Node, &(String::new(), "worker-4".into()))
        .expect("worker-4")
        .value();
    assert!(
        node["spec"]["unschedulable"].is_null() && node["spec"]["taints"].is_null(),
        "uncordoned: {}",
        node["spec"]
    );
}
