//! Restarts with a state directory: the dispatcher runs in a child process (this test binary
//! re-run in child mode), is killed with SIGKILL while a slow receiver holds a request, and is
//! started again on the same directory, as dsguard would be. Every notification arrives; none is
//! delivered twice except the one in flight at the kill, which carries the same Idempotency-Key.

mod notify_common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use dsguard::base::SystemClock;
use dsguard::notification::Status;
use dsguard::notify::{Dispatcher, NotifyMetrics};
use notify_common::{Script, TempDir, TestReceiver, settings, stranded, wait_until};
use serde_json::json;

const CHILD: &str = "DSGUARD_NOTIFY_RESTART_CHILD";
const GROUPS: usize = 12;
const RESOLVED: usize = 4;

fn child_settings(state_dir: &str, url: &str) -> dsguard::notify::NotifySettings {
    settings(json!({
        "state_dir": state_dir,
        "retry": {"initial_backoff": "50ms", "max_backoff": "200ms"},
        "receivers": [{"name": "ops", "webhook": {"url": url}}]
    }))
}

/// The child: phase 1 sends every notification (firing for each group, then resolves for the
/// first few); phase 2, like the engine after a restart, re-sends what it believes fires.
async fn child(phase: &str, state_dir: &str, url: &str) {
    let s = child_settings(state_dir, url);
    let (handle, run) =
        Dispatcher::start(&s, NotifyMetrics::default(), Arc::new(SystemClock)).unwrap();
    let _run = tokio::spawn(run);
    let tx = handle.sender();
    let node = |i: usize| format!("worker-{i}");
    if phase == "1" {
        for i in 0..GROUPS {
            tx.send(stranded("ops", &node(i), &["fluentd"], Status::Firing))
                .await
                .unwrap();
        }
        for i in 0..RESOLVED {
            tx.send(stranded("ops", &node(i), &["fluentd"], Status::Resolved))
                .await
                .unwrap();
        }
    } else {
        for i in RESOLVED..GROUPS {
            tx.send(stranded("ops", &node(i), &["fluentd"], Status::Firing))
                .await
                .unwrap();
        }
    }
    println!("CHILD-SENT");
    // The parent kills us; should it die first, do not linger.
    tokio::time::sleep(Duration::from_secs(90)).await;
}

/// A child process, killed on drop (also when an assertion fails).
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(phase: &str, state_dir: &str, url: &str) -> Kill {
    Kill(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "kill_9_mid_delivery_neither_loses_nor_repeats_notifications",
                "--nocapture",
            ])
            .env(CHILD, phase)
            .env("STATE_DIR", state_dir)
            .env("URL", url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn outbox_len(state_dir: &std::path::Path) -> usize {
    std::fs::read_dir(state_dir.join("outbox"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
        })
        .unwrap_or(usize::MAX)
}

#[tokio::test]
async fn kill_9_mid_delivery_neither_loses_nor_repeats_notifications() {
    if let Ok(phase) = std::env::var(CHILD) {
        let (dir, url) = (
            std::env::var("STATE_DIR").unwrap(),
            std::env::var("URL").unwrap(),
        );
        return child(&phase, &dir, &url).await;
    }
    // Each answer takes 150 ms, so a request is in flight most of the time.
    let server = TestReceiver::start(Script {
        delay: Duration::from_millis(150),
        ..Script::default()
    })
    .await;
    let dir = TempDir::new("restart");
    let state = dir.0.to_str().unwrap().to_owned();
    let mut first = spawn_child("1", &state, &server.url("/"));
    wait_until(
        "the receiver got five requests",
        Duration::from_secs(30),
        || server.count() >= 5,
    )
    .await;
    // Mid-delivery: the sixth request is being held by the receiver.
    wait_until("a request is in flight", Duration::from_secs(30), || {
        server.count() >= 6
    })
    .await;
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();
    let before_restart = server.count();
    assert!(
        before_restart < GROUPS + RESOLVED,
        "killed before everything went out"
    );
    assert!(
        outbox_len(&dir.0) > 0,
        "the outbox holds what was not delivered"
    );

    let second = spawn_child("2", &state, &server.url("/"));
    let expected: BTreeSet<(String, String)> = (0..GROUPS)
        .map(|i| (format!("worker-{i}"), "firing".to_owned()))
        .chain((0..RESOLVED).map(|i| (format!("worker-{i}"), "resolved".to_owned())))
        .collect();
    let got = |server: &TestReceiver| -> BTreeSet<(String, String)> {
        server
            .requests()
            .iter()
            .map(|r| {
                (
                    r.body["groupLabels"]["node"].as_str().unwrap().to_owned(),
                    r.body["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    wait_until(
        "everything arrived and the outbox is empty",
        Duration::from_secs(60),
        || got(&server) == expected && outbox_len(&dir.0) == 0,
    )
    .await;
    drop(second);

    let mut keys: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in server.requests() {
        let key = (
            r.body["groupLabels"]["node"].as_str().unwrap().to_owned(),
            r.body["status"].as_str().unwrap().to_owned(),
        );
        keys.entry(key)
            .or_default()
            .insert(r.headers["idempotency-key"].clone());
    }
    for (notification, ids) in &keys {
        assert_eq!(
            ids.len(),
            1,
            "{notification:?} was sent as two different notifications"
        );
    }
    let total = server.count();
    assert!(
        total <= expected.len() + 1,
        "{total} requests for {} notifications: more than the one in flight at the kill was repeated",
        expected.len()
    );
    println!(
        "requests {total} for {} notifications ({before_restart} before the kill)",
        expected.len()
    );
}
