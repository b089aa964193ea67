//! Shared by the tests that run the real `dsguard run` binary and by the chaos benchmark: a child
//! process killed on drop, a webhook receiver on loopback that records every POST with its
//! `Idempotency-Key`, free ports, polling with a deadline, and the kill-and-restart run
//! ([`chaos`]); two replicas and a failover ([`failover`]); `dsguard sim` and the real `kubectl`
//! ([`kubectl`]).

#![allow(dead_code)]

pub mod chaos;
pub mod failover;
pub mod kubectl;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;

/// A child process, killed (SIGKILL) and reaped on drop, also when an assertion fails.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One POST the receiver got.
#[derive(Clone, Debug)]
pub struct Post {
    /// Its `Idempotency-Key` header (empty when absent).
    pub key: String,
    /// The JSON payload.
    pub body: Value,
}

impl Post {
    /// (alertname, node, status) of each of its alerts.
    pub fn alerts(&self) -> Vec<(String, String, String)> {
        self.body["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
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
}

/// What a [`hook`] received, in arrival order.
pub type Received = Arc<Mutex<Vec<Post>>>;

/// A webhook receiver on loopback answering 200 to every POST to `/hook`; returns its URL.
pub async fn hook() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        post({
            let received = received.clone();
            move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                received.lock().unwrap().push(Post { key, body });
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// (alertname, node, status) of every alert of every payload, in arrival order.
pub fn seen(received: &Received) -> Vec<(String, String, String)> {
    received
        .lock()
        .unwrap()
        .iter()
        .flat_map(Post::alerts)
        .collect()
}

/// A loopback port free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` every 50 ms; panics naming `what` after `limit`.
pub async fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `dsguard run` on `config` against the cluster of `kubeconfig`, logging at `log` (a
/// `dsguard sim` playing `scenario` (YAML, written to `dir/scenario.yaml`) at real speed, since
/// `dsguard run` reads the system clock; returns the process and its kubeconfig once written.
pub async fn start_sim_at_real_speed(dir: &Path, scenario: &str) -> (Killed, std::path::PathBuf) {
    std::fs::write(dir.join("scenario.yaml"), scenario).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    let sim = Killed(
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
    (sim, kubeconfig)
}

/// `DSGUARD__LOG__LEVEL` filter) to a piped stderr when asked, else at warn to the test's.
pub fn start_dsguard(config: &Path, kubeconfig: &Path, log: Option<&str>) -> Killed {
    start_dsguard_at(config, kubeconfig, free_port(), log)
}

/// [`start_dsguard`], serving on this loopback port.
pub fn start_dsguard_at(config: &Path, kubeconfig: &Path, port: u16, log: Option<&str>) -> Killed {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dsguard"));
    command
        .args(["run", "--config"])
        .arg(config)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("DSGUARD__LOG__LEVEL", log.unwrap_or("warn"))
        .stdout(Stdio::null());
    if log.is_some() {
        command.stderr(Stdio::piped());
    }
    Killed(command.spawn().expect("dsguard runs"))
}

/// The settings of `dsguard run` for the restart tests: stranded after 2 s, every notification
/// to the webhook at `hook` at once, outbox and alert state in `state_dir`.
pub fn write_config(path: &Path, state_dir: &Path, hook: &str) {
    std::fs::write(
        path,
        format!(
            "coverage:\n  grace: {{ stranded: 2s }}\n\
             alerting:\n  route: {{ receiver: hook, group_wait: 0s, group_interval: 1s, repeat_interval: 1h }}\n\
             notify:\n  state_dir: {}\n  retry: {{ initial_backoff: 100ms, max_backoff: 1s, max_age: 1h }}\n  receivers:\n    - {{ name: hook, webhook: {{ url: \"{hook}\" }} }}\n",
            state_dir.display()
        ),
    )
    .unwrap();
}
