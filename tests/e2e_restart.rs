//! `kill -9` mid-incident: `dsguard run` (a real process, with a state directory) against
//! `dsguard sim` (another process), notifying a webhook receiver on loopback. After the restart
//! nothing is sent twice and nothing is lost: one page when the node fails, one resolve when it
//! recovers, whatever happened in between.

mod common;

use std::time::{Duration, Instant};

use common::{hook, seen, start_dsguard, start_sim_at_real_speed, wait_for, write_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_incident_neither_repeats_nor_loses_a_notification() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!("dsguard-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("state")).unwrap();
    // worker-2 stops at 3 s (Unknown about 5 s later), comes back at 30 s. The simulator runs at
    // real speed: `dsguard run` reads the system clock, and the timestamps must agree.
    let (_sim, kubeconfig) = start_sim_at_real_speed(
        &dir,
        "name: restart\ndescription: One node fails and recovers.\n\
         settings: { node_monitor_grace: 5s, node_status_interval: 1s, pod_start_delay: 1s, pod_ready_delay: 1s, duration: 600s }\n\
         nodes:\n  - { name: worker, count: 3 }\n\
         daemonsets:\n  - { name: agent, namespace: kube-system }\n\
         timeline:\n  - { at: 3s, fail_node: worker-2 }\n  - { at: 30s, recover_node: worker-2 }\n",
    )
    .await;

    let (hook, received) = hook().await;
    let config = dir.join("dsguard.yaml");
    write_config(&config, &dir.join("state"), &hook);

    let stranded = |status: &str| {
        (
            "DaemonSetPodsStranded".to_owned(),
            "worker-2".to_owned(),
            status.to_owned(),
        )
    };
    let mut dsguard = start_dsguard(&config, &kubeconfig, None);
    wait_for("the stranded page", Duration::from_secs(40), || {
        seen(&received).contains(&stranded("firing"))
    })
    .await;

    // kill -9 in the middle of the incident, then start again on the same state directory.
    dsguard.0.kill().unwrap();
    dsguard.0.wait().unwrap();
    let restarted_at = Instant::now();
    let _dsguard = start_dsguard(&config, &kubeconfig, None);
    wait_for(
        "the resolve after the node recovers",
        Duration::from_secs(60),
        || seen(&received).contains(&stranded("resolved")),
    )
    .await;
    // A little longer, for anything that would arrive twice.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let all = seen(&received);
    // A kill while the receiver is answering re-sends that request after the restart, with the
    // same Idempotency-Key (the one window no sender can close); any other repeat is a bug.
    let keys = |status: &str| -> std::collections::BTreeSet<String> {
        received
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.alerts().contains(&stranded(status)))
            .map(|p| p.key.clone())
            .collect()
    };
    assert_eq!(
        keys("firing").len(),
        1,
        "no second page after the restart (keys {:?}): {all:?}",
        keys("firing")
    );
    assert_eq!(
        keys("resolved").len(),
        1,
        "the resolve is not lost, nor sent twice: {all:?}"
    );
    assert!(
        received.lock().unwrap().iter().all(|p| !p.key.is_empty()),
        "every request carries its Idempotency-Key"
    );
    assert!(restarted_at.elapsed() > Duration::from_secs(2));
    let others: Vec<_> = all
        .iter()
        .filter(|a| a.0 != "DaemonSetPodsStranded" && a.0 != "DsguardBlind")
        .collect();
    assert!(others.is_empty(), "nothing else paged: {others:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
