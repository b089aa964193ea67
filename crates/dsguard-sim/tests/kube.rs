//! The `kube` crate's watcher against the simulator while it injects faults: dropped watches,
//! a forced 410 and a burst of 5xx. The watcher's cache must end equal to the server's state.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dsguard_sim::duration::Dur;
use dsguard_sim::faults::FaultConfig;
use dsguard_sim::kinds::Kind;
use dsguard_sim::testing::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::{WatchStreamExt, reflector, watcher};

async fn client_for(url: &str) -> kube::Client {
    let path = std::env::temp_dir().join(format!("dsguard-sim-kube-{}.yaml", std::process::id()));
    dsguard_sim::kubeconfig::write(&path, url).expect("write kubeconfig");
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).expect("read kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("kubeconfig is usable");
    let _ = std::fs::remove_file(&path);
    kube::Client::try_from(config).expect("client")
}

fn server_state(sim: &dsguard_sim::Simulation) -> BTreeMap<String, u64> {
    sim.store
        .list(Kind::Pod, None)
        .1
        .iter()
        .map(|p| (format!("{}/{}", p.key.0, p.key.1), p.rv))
        .collect()
}

#[tokio::test]
async fn the_kube_watcher_survives_faults_and_ends_with_the_servers_state() {
    let mut options = options(40.0);
    options.faults = FaultConfig {
        drop_watches_after: Some(Dur(Duration::from_millis(700))),
        expire_next_watches: 1,
        ..FaultConfig::default()
    };
    let sim = start(scenario_file("demo.yaml"), options).await;
    let client = client_for(&sim.url()).await;
    let (reader, writer) = reflector::store::<Pod>();
    let stream = reflector(
        writer,
        watcher(Api::<Pod>::all(client), watcher::Config::default()).default_backoff(),
    );
    let errors = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen_errors = errors.clone();
    let task = tokio::spawn(stream.for_each(move |event| {
        if event.is_err() {
            seen_errors.fetch_add(1, Ordering::Relaxed);
        }
        async {}
    }));
    reader
        .wait_until_ready()
        .await
        .expect("the watcher lists after the 410");
    sim.faults.fail_next(3);
    // Let the scenario play through the failure, the deletion, the new node and pod GC.
    eventually(Duration::from_secs(30), "scenario time 200 s", async || {
        (sim.elapsed() >= Duration::from_secs(200)).then_some(())
    })
    .await;
    sim.faults.set(FaultConfig::default());
    let expected_pods = "worker-5";
    eventually(
        Duration::from_secs(30),
        "the watcher's cache equals the server's pods",
        async || {
            let cached: BTreeMap<String, u64> = reader
                .state()
                .iter()
                .map(|p| {
                    let name = format!(
                        "{}/{}",
                        p.metadata.namespace.clone().unwrap_or_default(),
                        p.metadata.name.clone().unwrap_or_default()
                    );
                    (
                        name,
                        p.metadata
                            .resource_version
                            .as_deref()
                            .and_then(|rv| rv.parse().ok())
                            .unwrap_or(0),
                    )
                })
                .collect();
            let on_new_node = reader
                .state()
                .iter()
                .filter(|p| {
                    p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(expected_pods)
                })
                .count();
            (cached == server_state(&sim) && on_new_node == 2).then_some(())
        },
    )
    .await;
    let counts = &sim.faults.counts;
    assert!(
        counts.expired.load(Ordering::Relaxed) >= 1,
        "a 410 was served"
    );
    assert!(
        counts.errors.load(Ordering::Relaxed) >= 3,
        "the 5xx burst was served"
    );
    assert!(
        counts.watches.load(Ordering::Relaxed) >= 4,
        "watches were dropped and resumed"
    );
    // The client retries some 5xx itself and handles a 410 by listing again, so the stream
    // surfaces only some of the faults as errors; what matters is that it went on.
    assert!(
        errors.load(Ordering::Relaxed) >= 1,
        "the watcher saw a fault and went on"
    );
    task.abort();
    sim.stop().await;
}
