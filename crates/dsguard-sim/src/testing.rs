//! Helpers for tests that drive the simulator (its own and dsguard's): start a simulation on a
//! free loopback port, talk raw HTTP/1.1 to it so status lines, headers and bodies are seen exactly
//! as sent, read the recorded real-cluster fixtures, and wait for a condition with a deadline.
//!
//! They panic on failure, as test helpers do; nothing here is for production use.

use std::time::{Duration, Instant};

use crate::scenario::Scenario;
use crate::server::ServerSettings;
use crate::{SimOptions, Simulation};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A response, body de-chunked.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The recorded real-cluster fixtures (`tests/fixtures/real-k8s/` of the workspace): what a real
/// Kubernetes v1.28 control plane answered, and dumps of its cluster through a node failure.
pub fn real_k8s() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/real-k8s")
}

/// Reads a real-server fixture file of `real-k8s/api/`.
pub fn fixture(name: &str) -> String {
    let path = real_k8s().join("api").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON body of a `.txt` fixture (status line, header, blank line, body).
pub fn fixture_body(name: &str) -> (u16, Value) {
    let text = fixture(name);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = text.split("\n\n").nth(1).expect("body");
    (
        status,
        serde_json::from_str(body.trim()).expect("fixture body is JSON"),
    )
}

/// A scenario from YAML text that must be valid.
pub fn scenario(text: &str) -> Scenario {
    Scenario::from_yaml(text, "test").expect("test scenario is valid")
}

/// One of the scenarios shipped in this crate's `scenarios/`.
pub fn scenario_file(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    Scenario::from_file(&path).expect("shipped scenario is valid")
}

/// Starts a simulation on a free loopback port.
pub async fn start(scenario: Scenario, options: SimOptions) -> Simulation {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    Simulation::start(scenario, listener, options)
        .await
        .expect("simulation starts")
}

/// Options at `speed`, with bookmarks every 300 ms so watches resume quickly.
pub fn options(speed: f64) -> SimOptions {
    SimOptions {
        speed,
        server: ServerSettings {
            bookmark_interval: Duration::from_millis(300),
            ..ServerSettings::default()
        },
        ..SimOptions::default()
    }
}

async fn send(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    if let Some(body) = body {
        request.push_str(body);
    }
    stream.write_all(request.as_bytes()).await.expect("send");
    stream
}

fn parse_head(head: &str) -> (u16, Vec<(String, String)>) {
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (status, headers)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap_or("0").trim(), 16)
                .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = end + 2;
        out.extend_from_slice(&raw[start..(start + size).min(raw.len())]);
        raw = &raw[(start + size + 2).min(raw.len())..];
    }
}

/// One request; the whole response within ten seconds or the test fails.
pub async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut stream = send(addr, method, path, headers, body).await;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .unwrap_or_else(|_| panic!("{method} {path} did not finish in 10 s"))
        .expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
    let (status, headers) = parse_head(&String::from_utf8_lossy(&raw[..split]));
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// A GET with no headers.
pub async fn get(addr: std::net::SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[], None).await
}

/// An open watch: status, headers, and the event lines as they come.
pub struct Watch {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    reader: BufReader<TcpStream>,
}

impl Watch {
    /// Opens a watch (a GET of `path`, which should carry `watch=1`).
    pub async fn open(addr: std::net::SocketAddr, path: &str) -> Watch {
        let stream = send(addr, "GET", path, &[], None).await;
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("head line");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let (status, headers) = parse_head(&head);
        Watch {
            status,
            headers,
            reader,
        }
    }

    /// The first header of this name (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The next event, or `None` when the stream ends or nothing comes before `deadline`.
    /// The next event line as JSON, or `None` when the stream ends or `within` passes.
    pub async fn next(&mut self, within: Duration) -> Option<Value> {
        let chunked = self
            .header_value("transfer-encoding")
            .is_some_and(|v| v.contains("chunked"));
        let read = async {
            if !chunked {
                let mut line = String::new();
                while self.reader.read_line(&mut line).await.ok()? > 0 {
                    if !line.trim().is_empty() {
                        return serde_json::from_str(line.trim()).ok();
                    }
                    line.clear();
                }
                return None;
            }
            loop {
                let mut size = String::new();
                if self.reader.read_line(&mut size).await.ok()? == 0 {
                    return None;
                }
                let size = usize::from_str_radix(size.trim(), 16).ok()?;
                if size == 0 {
                    return None;
                }
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).await.ok()?;
                let text = String::from_utf8_lossy(&chunk[..size]).to_string();
                if let Some(line) = text.lines().find(|l| !l.trim().is_empty()) {
                    return serde_json::from_str(line).ok();
                }
            }
        };
        tokio::time::timeout(within, read).await.ok().flatten()
    }
}

/// Polls `check` until it returns `Some`, failing the test after `limit`.
pub async fn eventually<T>(
    limit: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
