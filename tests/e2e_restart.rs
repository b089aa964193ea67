//! `kill -9` mid-incident: `dsguard run` (a real process, with a state directory) against
//! `dsguard sim` (another process), notifying a webhook receiver on loopback. After the restart
//! nothing is sent twice and nothing is lost: one page when the node fails, one resolve when it
//! recovers, whatever happened in between.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use serde_json::Value;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

type Received = Arc<Mutex<Vec<Value>>>;

async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        post({
            let received = received.clone();
            move |axum::Json(body): axum::Json<Value>| async move {
                received.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// (alertname, node, status) of every alert of every payload, in arrival order.
fn seen(received: &Received) -> Vec<(String, String, String)> {
    received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|p| p["alerts"].as_array().cloned().unwrap_or_default())
        .map(|a| {
            let l = |k: &str| a["labels"][k].as_str().unwrap_or("").to_owned();
            (
                l("alertname"),
                l("node"),
                a["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn start_dsguard(config: &std::path::Path, kubeconfig: &std::path::Path) -> Killed {
    Killed(
        Command::new(env!("CARGO_BIN_EXE_dsguard"))
            .args(["run", "--config"])
            .arg(config)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["--listen", &format!("127.0.0.1:{}", free_port())])
            .env("DSGUARD__LOG__LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("dsguard runs"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_incident_neither_repeats_nor_loses_a_notification() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!("dsguard-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("state")).unwrap();
    // worker-2 stops at 3 s (Unknown about 5 s later), comes back at 30 s. The simulator runs at
    // real speed: `dsguard run` reads the system clock, and the timestamps must agree.
    std::fs::write(
        dir.join("scenario.yaml"),
        "name: restart\ndescription: One node fails and recovers.\n\
         settings: { node_monitor_grace: 5s, node_status_interval: 1s, pod_start_delay: 1s, pod_ready_delay: 1s, duration: 600s }\n\
         nodes:\n  - { name: worker, count: 3 }\n\
         daemonsets:\n  - { name: agent, namespace: kube-system }\n\
         timeline:\n  - { at: 3s, fail_node: worker-2 }\n  - { at: 30s, recover_node: worker-2 }\n",
    )
    .unwrap();
    let kubeconfig = dir.join("kubeconfig");
    let _sim = Killed(
        Command::new(env!("CARGO_BIN_EXE_dsguard"))
            .args(["sim", "--speed", "1", "--scenario"])
            .arg(dir.join("scenario.yaml"))
            .args([
                "--listen",
                &format!("127.0.0.1:{}", free_port()),
                "--kubeconfig-out",
            ])
            .arg(&kubeconfig)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the simulator runs"),
    );
    wait_for(
        "the simulator's kubeconfig",
        Duration::from_secs(20),
        || kubeconfig.exists(),
    )
    .await;

    let (hook, received) = receiver().await;
    let config = dir.join("dsguard.yaml");
    std::fs::write(
        &config,
        format!(
            "coverage:\n  grace: {{ stranded: 2s }}\n\
             alerting:\n  route: {{ receiver: hook, group_wait: 0s, group_interval: 1s, repeat_interval: 1h }}\n\
             notify:\n  state_dir: {}\n  retry: {{ initial_backoff: 100ms, max_backoff: 1s, max_age: 1h }}\n  receivers:\n    - {{ name: hook, webhook: {{ url: \"{hook}\" }} }}\n",
            dir.join("state").display()
        ),
    )
    .unwrap();

    let stranded = |status: &str| {
        (
            "DaemonSetPodsStranded".to_owned(),
            "worker-2".to_owned(),
            status.to_owned(),
        )
    };
    let mut dsguard = start_dsguard(&config, &kubeconfig);
    wait_for("the stranded page", Duration::from_secs(40), || {
        seen(&received).contains(&stranded("firing"))
    })
    .await;

    // kill -9 in the middle of the incident, then start again on the same state directory.
    dsguard.0.kill().unwrap();
    dsguard.0.wait().unwrap();
    let restarted_at = Instant::now();
    let _dsguard = start_dsguard(&config, &kubeconfig);
    wait_for(
        "the resolve after the node recovers",
        Duration::from_secs(60),
        || seen(&received).contains(&stranded("resolved")),
    )
    .await;
    // A little longer, for anything that would arrive twice.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let all = seen(&received);
    let count = |status: &str| all.iter().filter(|a| **a == stranded(status)).count();
    assert_eq!(
        count("firing"),
        1,
        "no second page after the restart: {all:?}"
    );
    assert_eq!(count("resolved"), 1, "the resolve is not lost: {all:?}");
    assert!(restarted_at.elapsed() > Duration::from_secs(2));
    let others: Vec<_> = all
        .iter()
        .filter(|a| a.0 != "DaemonSetPodsStranded" && a.0 != "DsguardBlind")
        .collect();
    assert!(others.is_empty(), "nothing else paged: {others:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
