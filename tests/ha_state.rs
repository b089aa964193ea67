//! The ConfigMaps that carry what follows the leader, against the simulated API server over
//! HTTP through the real `kube` client: writes are conditional on the `resourceVersion` read (a
//! stale one gets 409), `update` re-reads and wins after a concurrent write, silences merged by
//! one replica reach another, and what one replica's `LeaderState` publishes another takes over.

use std::sync::{Arc, Mutex};

use dsguard::alert::{AlertEngine, AlertSettings, SharedEngine, SilenceRequest};
use dsguard::app::{LeaderState, merge_silences};
use dsguard::base::{Clock, SystemClock};
use dsguard::cluster::{ConfigMapStore, StoreError};
use dsguard_sim::testing::{options, scenario, start};

const CLUSTER: &str = "
name: ha-state
nodes:
  - { name: w, count: 1 }
daemonsets:
  - { name: agent, namespace: dsg }
";

fn client(url: &str) -> kube::Client {
    kube::Client::try_from(kube::Config::new(url.parse().expect("url"))).expect("client")
}

fn engine() -> SharedEngine {
    Arc::new(Mutex::new(AlertEngine::new(AlertSettings::default(), None)))
}

// Two workers: the racing writer blocks one while the simulator answers on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_with_a_stale_resource_version_is_refused_and_update_retries_it() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let store = ConfigMapStore::new(client(&sim.url()), "dsg", "dsguard-state", "state.json");
    let empty = store.read().await.unwrap();
    assert_eq!(empty.value, None);
    let first = store.write("one".into(), &empty).await.unwrap();
    assert!(matches!(
        store.write("again".into(), &empty).await,
        Err(StoreError::Conflict)
    ));
    let second = store.write("two".into(), &first).await.unwrap();
    assert_ne!(second.resource_version, first.resource_version);
    assert!(matches!(
        store.write("stale".into(), &first).await,
        Err(StoreError::Conflict)
    ));
    // Another writer slips in between the first read and write: update reads again and wins.
    let url = sim.url();
    let mut raced = false;
    let stored = store
        .update(|current| {
            if !raced {
                raced = true;
                let url = url.clone();
                let done = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Runtime::new().unwrap();
                    runtime.block_on(async {
                        let other =
                            ConfigMapStore::new(client(&url), "dsg", "dsguard-state", "state.json");
                        let read = other.read().await.unwrap();
                        other.write("theirs".into(), &read).await.unwrap();
                    });
                });
                done.join().unwrap();
            }
            Some(format!("{}+mine", current.unwrap_or("")))
        })
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("theirs+mine"));
    assert_eq!(
        store.read().await.unwrap().value.as_deref(),
        Some("theirs+mine")
    );
    let too_large = "x".repeat(dsguard::cluster::MAX_VALUE_BYTES + 1);
    let read = store.read().await.unwrap();
    assert!(matches!(
        store.write(too_large, &read).await,
        Err(StoreError::TooLarge(_))
    ));
}

#[tokio::test]
async fn a_silence_merged_by_one_replica_is_taken_by_the_other_through_the_configmap() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let store = || ConfigMapStore::new(client(&sim.url()), "dsg", "dsguard-silences", "s.json");
    let clock = SystemClock;
    let (a, b) = (engine(), engine());
    a.lock().unwrap().set_silence_prefix("dsguard-a");
    let request = SilenceRequest {
        matchers: vec!["node=w-1".into()],
        duration: "1h".into(),
        created_by: "ops".into(),
        comment: String::new(),
    };
    let made = a.lock().unwrap().silence(request, clock.now()).unwrap();
    store()
        .update(|c| merge_silences(c, &a, &clock))
        .await
        .unwrap();
    store()
        .update(|c| merge_silences(c, &b, &clock))
        .await
        .unwrap();
    let held: Vec<String> = b
        .lock()
        .unwrap()
        .silences(clock.now())
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(held, [made.id]);
}

#[tokio::test]
async fn a_new_leader_takes_over_what_the_last_one_published_and_writes_over_it() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let store = || ConfigMapStore::new(client(&sim.url()), "dsg", "dsguard-state", "state.json");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (a, b) = (engine(), engine());
    let mut first = LeaderState::new(store(), "dsguard-a".into(), a.clone(), None, clock.clone());
    assert!(
        first.take_over().await,
        "nothing there yet: goes on from its own"
    );
    assert!(first.publish().await);
    assert!(
        first.publish().await,
        "unchanged: nothing written, still true"
    );
    let mut next = LeaderState::new(store(), "dsguard-b".into(), b.clone(), None, clock.clone());
    assert!(next.take_over().await);
    assert!(next.publish().await, "writes over the old leader's text");
    let text = store().read().await.unwrap().value.unwrap();
    assert!(text.contains(r#""holder":"dsguard-b""#), "{text}");
}
