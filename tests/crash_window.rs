//! The window between the alert engine's decision and the dispatcher's outbox. dsguard (the real
//! wiring, in this process, against the simulator over HTTP) decides a page or a resolve and
//! "crashes" before its dispatcher has it: its notifications go to a channel of the test's, which
//! holds nothing, and it is stopped. Started again on the same state directory with its real
//! dispatcher, it delivers what it decided, once, under the id it decided it with, and neither
//! pages again nor resolves early.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Post, Received, hook, wait_for, write_config};
use dsguard::notification::{Notification, Status};
use dsguard::settings::Settings;
use dsguard::simulated::{Attach, Dsguard};
use dsguard_sim::Simulation;
use dsguard_sim::testing::{options, scenario, start};
use tokio::sync::mpsc;

/// Scenario seconds per real second; dsguard runs on the simulator's clock.
const SPEED: f64 = 10.0;

/// worker-2 fails at 5 s (stranded about 8 s later) and recovers at 100 s.
const SCENARIO: &str = "name: window\ndescription: One node fails and recovers.\n\
    settings: { node_monitor_grace: 5s, node_status_interval: 1s, pod_start_delay: 1s, pod_ready_delay: 1s, duration: 600s }\n\
    nodes:\n  - { name: worker, count: 3 }\n\
    daemonsets:\n  - { name: agent, namespace: kube-system }\n\
    timeline:\n  - { at: 5s, fail_node: worker-2 }\n  - { at: 100s, recover_node: worker-2 }\n";

fn settings(dir: &Path, hook: &str) -> Settings {
    let path = dir.join("dsguard.yaml");
    write_config(&path, &dir.join("state"), hook);
    Settings::load_with_env(Some(&path), Vec::new()).expect("settings load")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dsguard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("state")).unwrap();
    dir
}

fn is_stranded(n: &Notification, status: Status) -> bool {
    n.status == status
        && n.alerts.iter().any(|a| {
            a.labels.get("alertname").map(String::as_str) == Some("DaemonSetPodsStranded")
                && a.labels.get("node").map(String::as_str) == Some("worker-2")
        })
}

/// The posts carrying worker-2's stranded alert with `status`.
fn posts(received: &Received, status: &str) -> Vec<Post> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|p| {
            p.alerts().contains(&(
                "DaemonSetPodsStranded".to_owned(),
                "worker-2".to_owned(),
                status.to_owned(),
            ))
        })
        .cloned()
        .collect()
}

/// Runs dsguard with its notifications going to a channel of the test's until it decides the
/// stranded notification with `status`, then stops it: the crash before the outbox.
async fn decide_then_crash(sim: &Simulation, settings: Settings, status: Status) -> Notification {
    let (tx, mut rx) = mpsc::channel(64);
    let attach = Attach {
        notifications: Some(tx),
        ..Attach::default()
    };
    let dsguard = Dsguard::start(sim, settings, attach)
        .await
        .expect("dsguard starts");
    let decided = tokio::time::timeout(Duration::from_secs(40), async {
        loop {
            let n = rx.recv().await.expect("dsguard runs");
            if is_stranded(&n, status) {
                return n;
            }
        }
    })
    .await
    .expect("the notification is decided");
    dsguard.stop().await.expect("dsguard stops");
    decided
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_decided_just_before_a_crash_goes_out_after_the_restart_under_its_own_id() {
    let dir = temp_dir("window-page");
    let (hook, received) = hook().await;
    let sim = start(scenario(SCENARIO), options(SPEED)).await;

    let page = decide_then_crash(&sim, settings(&dir, &hook), Status::Firing).await;
    assert!(received.lock().unwrap().is_empty(), "nothing went out yet");

    let dsguard = Dsguard::start(&sim, settings(&dir, &hook), Attach::default())
        .await
        .expect("dsguard starts again");
    wait_for(
        "the page decided before the crash",
        Duration::from_secs(30),
        || !posts(&received, "firing").is_empty(),
    )
    .await;
    wait_for("the resolve", Duration::from_secs(40), || {
        !posts(&received, "resolved").is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pages = posts(&received, "firing");
    assert_eq!(pages.len(), 1, "one page, not paged again: {pages:?}");
    assert_eq!(
        pages[0].key,
        page.id(),
        "sent under the id it was decided with"
    );
    assert_eq!(posts(&received, "resolved").len(), 1);
    assert_eq!(received.lock().unwrap().len(), 2, "nothing else was sent");
    dsguard.stop().await.expect("dsguard stops");
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolve_decided_just_before_a_crash_goes_out_after_the_restart_under_its_own_id() {
    let dir = temp_dir("window-resolve");
    let (hook, received) = hook().await;
    let sim = start(scenario(SCENARIO), options(SPEED)).await;

    let first = Dsguard::start(&sim, settings(&dir, &hook), Attach::default())
        .await
        .expect("dsguard starts");
    wait_for("the page", Duration::from_secs(30), || {
        !posts(&received, "firing").is_empty()
    })
    .await;
    first.stop().await.expect("dsguard stops");

    let resolve = decide_then_crash(&sim, settings(&dir, &hook), Status::Resolved).await;
    assert!(posts(&received, "resolved").is_empty(), "not sent yet");

    let dsguard = Dsguard::start(&sim, settings(&dir, &hook), Attach::default())
        .await
        .expect("dsguard starts again");
    wait_for(
        "the resolve decided before the crash",
        Duration::from_secs(30),
        || !posts(&received, "resolved").is_empty(),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let resolves = posts(&received, "resolved");
    assert_eq!(resolves.len(), 1, "{resolves:?}");
    assert_eq!(
        resolves[0].key,
        resolve.id(),
        "sent under the id it was decided with"
    );
    assert_eq!(
        posts(&received, "firing").len(),
        1,
        "the page went out once"
    );
    assert_eq!(received.lock().unwrap().len(), 2, "nothing else was sent");
    dsguard.stop().await.expect("dsguard stops");
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
