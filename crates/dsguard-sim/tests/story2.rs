//! The simulator replays the real cluster of `tests/fixtures/real-k8s/story2` (workspace) and its
//! DaemonSet numbers must match what the real v1.28 DaemonSet controller reported at every stage
//! (`controller-status.txt`). Time is moved by hand, so the comparison is exact and instant.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dsguard_sim::clock::SimClock;
use dsguard_sim::engine::Engine;
use dsguard_sim::faults::Faults;
use dsguard_sim::kinds::Kind;
use dsguard_sim::scenario::Scenario;
use dsguard_sim::store::Store;

/// Scenario second at which each recorded stage is compared (see scenarios/story2.yaml).
const STAGES: [(&str, u64); 7] = [
    ("t0-healthy", 5),
    ("t1-w3-failed", 69),
    ("t2-w3-recovered", 100),
    ("t3-rollout-with-dead-node", 220),
    ("t4-dead-node-deleted", 312),
    ("t5-relabel", 340),
    ("t6-settled", 365),
];

/// `controller-status.txt`: stage → DaemonSet → [desired, current, ready, available, misscheduled].
fn recorded() -> BTreeMap<String, BTreeMap<String, [i64; 5]>> {
    let path = dsguard_sim::testing::real_k8s().join("story2/controller-status.txt");
    let text = std::fs::read_to_string(path).expect("controller-status.txt");
    let mut stages = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("== ") {
            current = rest.split_whitespace().next().unwrap_or("").to_string();
            stages.insert(current.clone(), BTreeMap::new());
        } else if let [name, numbers @ ..] = line.split_whitespace().collect::<Vec<_>>().as_slice()
        {
            if *name == "NAME" || numbers.len() != 5 {
                continue;
            }
            let n: Vec<i64> = numbers.iter().map(|n| n.parse().unwrap_or(0)).collect();
            stages
                .get_mut(&current)
                .expect("a stage")
                .insert(name.to_string(), [n[0], n[1], n[2], n[3], n[4]]);
        }
    }
    stages
}

fn simulated(store: &Store) -> BTreeMap<String, [i64; 5]> {
    store
        .list(Kind::DaemonSet, Some("dsg"))
        .1
        .iter()
        .map(|ds| {
            let status = &ds.value()["status"];
            let n = |f: &str| status[f].as_i64().unwrap_or(0);
            let numbers = [
                n("desiredNumberScheduled"),
                n("currentNumberScheduled"),
                n("numberReady"),
                n("numberAvailable"),
                n("numberMisscheduled"),
            ];
            (ds.key.1.clone(), numbers)
        })
        .collect()
}

#[test]
fn the_replayed_story_matches_the_real_controllers_numbers_at_every_stage() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/story2.yaml");
    let scenario = Scenario::from_file(&path).expect("story2.yaml");
    let store = Arc::new(Store::new(SimClock::new(1.0), 100_000));
    let mut engine = Engine::new(store.clone(), Arc::new(Faults::default()), scenario);
    engine.bootstrap().expect("bootstrap");
    let recorded = recorded();
    assert_eq!(recorded.len(), STAGES.len());
    let mut t = 0;
    let mut mismatches = Vec::new();
    for (stage, at) in STAGES {
        while t <= at {
            engine.advance_to(Duration::from_secs(t));
            t += 1;
        }
        let real = &recorded[stage];
        assert_eq!(real.len(), 5, "five DaemonSets recorded at {stage}");
        let ours = simulated(&store);
        // The real status also says how far log-agent's rollout got: stuck at one updated pod
        // while w-4 is dead (t3), finished once w-4 was deleted (t4).
        let updated = store
            .get(Kind::DaemonSet, &("dsg".into(), "log-agent".into()))
            .expect("log-agent")
            .value()["status"]["updatedNumberScheduled"]
            .as_i64();
        match stage {
            "t3-rollout-with-dead-node" => assert_eq!(updated, Some(1), "{stage}"),
            "t4-dead-node-deleted" => assert_eq!(updated, Some(5), "{stage}"),
            _ => {}
        }
        if &ours != real {
            mismatches.push(format!(
                "{stage} at {at}s:\n  real {real:?}\n  sim  {ours:?}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
