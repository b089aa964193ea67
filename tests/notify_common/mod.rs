//! Shared by the notify integration tests: an HTTP receiver on 127.0.0.1 that records every
//! request and can fail the first N (or answer a fixed status, or answer slowly), notification
//! builders, polling with a deadline, and a log capture for the secret checks.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use dsguard::base::Timestamp;
use dsguard::notification::{Alert, Notification, Status};
use dsguard::notify::NotifySettings;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The path and query.
    pub uri: String,
    /// Headers, names lower-case.
    pub headers: HashMap<String, String>,
    /// The body as JSON (Null when it is not JSON).
    pub body: serde_json::Value,
    /// When it arrived.
    pub at: Instant,
}

/// How the receiver answers.
#[derive(Clone, Debug)]
pub struct Script {
    /// The first this many requests fail...
    pub fail_first: usize,
    /// ...with this status...
    pub fail_status: u16,
    /// ...and this `Retry-After`.
    pub retry_after: Option<String>,
    /// Then this status.
    pub then_status: u16,
    /// Wait this long before answering (after recording).
    pub delay: Duration,
    /// Put the request's path and `Authorization` header in error bodies (as a careless
    /// receiver might), to prove they are scrubbed.
    pub echo: bool,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            fail_first: 0,
            fail_status: 503,
            retry_after: None,
            then_status: 200,
            delay: Duration::ZERO,
            echo: false,
        }
    }
}

#[derive(Clone)]
struct Shared {
    log: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<Script>>,
}

/// An HTTP receiver on 127.0.0.1.
pub struct TestReceiver {
    /// Its address.
    pub addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let index = {
        let mut log = shared.log.lock().unwrap();
        log.push(Recorded {
            uri: uri.to_string(),
            headers: headers.clone(),
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
            at: Instant::now(),
        });
        log.len() - 1
    };
    let script = shared.script.lock().unwrap().clone();
    if !script.delay.is_zero() {
        tokio::time::sleep(script.delay).await;
    }
    let status = if index < script.fail_first {
        script.fail_status
    } else {
        script.then_status
    };
    let mut response_headers = HeaderMap::new();
    if index < script.fail_first
        && let Some(after) = &script.retry_after
    {
        response_headers.insert("retry-after", after.parse().unwrap());
    }
    let body = if script.echo && status >= 300 {
        format!(
            "bad request to {uri} with authorization {:?}",
            headers.get("authorization")
        )
    } else if status >= 300 {
        format!("failure {status}")
    } else {
        "ok".to_owned()
    };
    (
        StatusCode::from_u16(status).unwrap(),
        response_headers,
        body,
    )
}

impl TestReceiver {
    /// Starts on a free port.
    pub async fn start(script: Script) -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), script).await
    }

    /// Starts on this address.
    pub async fn start_on(addr: SocketAddr, script: Script) -> Self {
        let shared = Shared {
            log: Arc::default(),
            script: Arc::new(Mutex::new(script)),
        };
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, shared, task }
    }

    /// `http://127.0.0.1:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What it got so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().unwrap().clone()
    }

    /// How many requests it got.
    pub fn count(&self) -> usize {
        self.shared.log.lock().unwrap().len()
    }
}

/// An address nothing listens on (bound, then released).
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Polls `condition` every 20 ms until it holds; panics with `what` after `deadline`.
pub async fn wait_until(what: &str, deadline: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A `DaemonSetPodsStranded` notification for `node` (the group) with `pods` lost, to `receiver`.
pub fn stranded(receiver: &str, node: &str, pods: &[&str], status: Status) -> Notification {
    let now = Timestamp::now();
    let alerts = pods
        .iter()
        .map(|pod| Alert {
            status,
            labels: map(&[
                ("alertname", "DaemonSetPodsStranded"),
                ("severity", "critical"),
                ("namespace", "kube-system"),
                ("daemonset", pod),
                ("node", node),
                ("state", "stranded"),
                ("reason", "node_unreachable"),
            ]),
            annotations: map(&[
                (
                    "summary",
                    &format!("Node {node} is down; daemon pod {pod} is lost with it"),
                ),
                (
                    "description",
                    "Daemon pods are never moved to another node.",
                ),
                (
                    "runbook_url",
                    "https://example.com/runbooks/DaemonSetPodsStranded.md",
                ),
            ]),
            starts_at: now,
            ends_at: (status == Status::Resolved).then_some(now),
            generator_url: format!("http://dsguard:8080/api/v1/nodes/{node}"),
            fingerprint: format!("{node}/{pod}"),
        })
        .collect();
    Notification {
        receiver: receiver.to_owned(),
        group_key: format!("{{}}:{{node=\"{node}\"}}"),
        status,
        group_labels: map(&[("node", node)]),
        common_labels: map(&[("alertname", "DaemonSetPodsStranded"), ("node", node)]),
        common_annotations: BTreeMap::new(),
        alerts,
        repeat: false,
        test: false,
        created_at: now,
    }
}

/// Notify settings from JSON, validated.
pub fn settings(value: serde_json::Value) -> NotifySettings {
    let settings: NotifySettings = serde_json::from_value(value).expect("settings parse");
    settings.validate().expect("settings are valid");
    settings
}

/// A fresh directory under the temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// Creates it.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "dsguard-{name}-{}-{}",
            std::process::id(),
            Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Log lines written while the guard lives (on this thread: use a current-thread runtime).
#[derive(Clone, Default)]
pub struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl LogBuf {
    /// What was logged.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuf {
    type Writer = LogBuf;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Captures every log event at debug and above into a buffer.
pub fn capture_logs() -> (LogBuf, tracing::subscriber::DefaultGuard) {
    let buf = LogBuf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(buf.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    (buf, tracing::subscriber::set_default(subscriber))
}
