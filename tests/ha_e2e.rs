//! Two real `dsguard run` processes with leader election on, against `dsguard sim` (another
//! process), both configured with the same webhook receiver: a node fails and recovers, and the
//! receiver gets exactly one `DaemonSetPodsStranded` page and one resolve, from the leader.

mod common;

use std::time::Duration;

use common::{hook, seen, start_dsguard, start_sim_at_real_speed, wait_for, write_config};

/// The restart tests' settings plus an `ha` section naming this replica.
fn write_ha_config(path: &std::path::Path, state_dir: &std::path::Path, hook: &str, id: &str) {
    write_config(path, state_dir, hook);
    let mut text = std::fs::read_to_string(path).unwrap();
    text.push_str(&format!(
        "ha:\n  enabled: true\n  namespace: kube-system\n  identity: {id}\n  \
         lease_duration: 3s\n  renew_deadline: 2s\n  retry_period: 500ms\n"
    ));
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_page_once_for_a_failed_node() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!("dsguard-ha-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // worker-2 stops at 8 s (after the election), comes back at 30 s; real speed, since
    // `dsguard run` reads the system clock.
    std::fs::create_dir_all(&dir).unwrap();
    let (_sim, kubeconfig) = start_sim_at_real_speed(
        &dir,
        "name: ha\ndescription: One node fails and recovers, two dsguard replicas watch.\n\
         settings: { node_monitor_grace: 5s, node_status_interval: 1s, pod_start_delay: 1s, pod_ready_delay: 1s, duration: 600s }\n\
         nodes:\n  - { name: worker, count: 3 }\n\
         daemonsets:\n  - { name: agent, namespace: kube-system }\n\
         timeline:\n  - { at: 8s, fail_node: worker-2 }\n  - { at: 30s, recover_node: worker-2 }\n",
    )
    .await;
    let (hook, received) = hook().await;
    let mut replicas = Vec::new();
    for id in ["dsguard-a", "dsguard-b"] {
        std::fs::create_dir_all(dir.join(id)).unwrap();
        let config = dir.join(format!("{id}.yaml"));
        write_ha_config(&config, &dir.join(id), &hook, id);
        replicas.push(start_dsguard(&config, &kubeconfig, None));
    }
    let stranded = |status: &str| {
        let alert = ("DaemonSetPodsStranded", "worker-2", status);
        (alert.0.to_owned(), alert.1.to_owned(), alert.2.to_owned())
    };
    wait_for(
        "the resolve after the node recovers",
        Duration::from_secs(70),
        || seen(&received).contains(&stranded("resolved")),
    )
    .await;
    // A little longer, for anything the other replica would send.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = seen(&received);
    let count = |status: &str| all.iter().filter(|a| **a == stranded(status)).count();
    println!(
        "pages: {}, resolves: {}, payloads: {}",
        count("firing"),
        count("resolved"),
        received.lock().unwrap().len()
    );
    assert_eq!(count("firing"), 1, "one page from two replicas: {all:?}");
    assert_eq!(
        count("resolved"),
        1,
        "one resolve from two replicas: {all:?}"
    );
    drop(replicas);
    let _ = std::fs::remove_dir_all(&dir);
}
