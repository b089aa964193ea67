//! The shipped rules and dashboards against a real Prometheus (Debian package `prometheus`)
//! scraping a real `dsguard demo`: a node fails, its replacement joins, one DaemonSet cannot
//! start there. The test proves that
//! - Prometheus loads every rule and evaluates it without error;
//! - the rules fire exactly the alerts the scenario calls for (the dead node's
//!   DaemonSetPodsStranded, DaemonSetPodUnreplaced for its three orphaned pods and for the pod
//!   that cannot start on the new node), and no other alert;
//! - every PromQL expression of every dashboard panel is valid and returns data (a non-NaN
//!   value at some moment of the demo), as does every metric a rule reads and every metric a
//!   dashboard variable lists.
//!
//! Without `prometheus` on the PATH this test fails; it does not skip.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Scenario seconds per real second. The shortest window the test must catch is the stranded
/// alert's (actionable at 133 s, node deleted at 150 s): 17 / SPEED = 2.8 s of wall time, almost
/// three scrapes and evaluations at 1 s. The last expected alert fires at 205 s (34 s of wall time).
const SPEED: f64 = 6.0;
/// Scenario second at which the last expected alert (storage-agent unreplaced on worker-5) fires.
const LAST_ALERT_AT: f64 = 205.0;
/// Slack for process start-up, scrapes and evaluations on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(25);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A child process killed when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.0 GET (no chunked encoding, the body ends when the connection closes).
fn http_get(port: u16, path: &str) -> Result<(u16, String), String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect :{port}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json, text/plain\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok((status, body.to_owned()))
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Polls `check` until it returns Some, or panics with `what` at the deadline.
fn eventually<T>(deadline: Instant, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

struct Prometheus {
    port: u16,
}

impl Prometheus {
    fn api(&self, path: &str) -> Value {
        let (status, body) = http_get(self.port, path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let value: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {status} {e}: {body}"));
        assert_eq!(value["status"], "success", "{path}: HTTP {status}: {body}");
        value["data"].clone()
    }

    fn query_range(&self, expr: &str, start: f64, end: f64) -> Vec<Value> {
        let path = format!(
            "/api/v1/query_range?query={}&start={start:.3}&end={end:.3}&step=1",
            encode(expr)
        );
        self.api(&path)["result"].as_array().unwrap().clone()
    }
}

/// True when some series has some value that is a number (not NaN, not ±Inf).
fn has_number(result: &[Value]) -> bool {
    result.iter().any(|series| {
        series["values"].as_array().unwrap().iter().any(|point| {
            point[1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(f64::is_finite)
        })
    })
}

fn write_config(dir: &Path, dsguard_port: u16) -> PathBuf {
    let rules = root().join("alerts/dsguard.rules.yml");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - {}\n\
         scrape_configs:\n  - job_name: dsguard\n    honor_labels: true\n    \
         static_configs:\n      - targets: ['127.0.0.1:{dsguard_port}']\n",
        rules.display()
    );
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, config).unwrap();
    path
}

fn start_prometheus(dir: &Path, dsguard_port: u16) -> (Guard, Prometheus) {
    let port = free_port();
    let config = write_config(dir, dsguard_port);
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus must be installed (Debian package prometheus, see .ci/install)");
    (Guard(child), Prometheus { port })
}

fn start_demo(port: u16) -> Guard {
    let child = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args(["demo", "--speed", &SPEED.to_string()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Guard(child)
}

/// Every `expr` of every panel (rows included) and every variable query of a dashboard.
fn dashboard_exprs(board: &Value) -> (Vec<(String, String)>, Vec<String>) {
    fn walk(panels: &Value, out: &mut Vec<(String, String)>) {
        for panel in panels.as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let title = panel["title"].as_str().unwrap_or("?").to_owned();
                out.push((title, target["expr"].as_str().unwrap().to_owned()));
            }
            walk(&panel["panels"], out);
        }
    }
    let mut exprs = Vec::new();
    walk(&board["panels"], &mut exprs);
    let variables = board["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["type"] == "query")
        .map(|v| v["definition"].as_str().unwrap().to_owned())
        .collect();
    (exprs, variables)
}

/// Grafana's variables as the demo needs them: every template variable "All".
fn substitute(expr: &str) -> String {
    let mut out = expr
        .replace("$__rate_interval", "5s")
        .replace("$__range", "1h")
        .replace("$__interval", "1s");
    for var in ["cluster", "namespace", "daemonset", "node", "instance"] {
        out = out.replace(&format!("${var}"), ".*");
    }
    assert!(!out.contains('$'), "unsubstituted variable in {expr}");
    out
}

fn metric_names(expr: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"\bdsguard_[a-z_]+").unwrap();
    re.find_iter(expr).map(|m| m.as_str().to_owned()).collect()
}

/// (alertname, node, daemonset, state) of every alert that was firing at some point.
fn fired(prometheus: &Prometheus, start: f64) -> BTreeSet<(String, String, String, String)> {
    let result = prometheus.query_range(r#"ALERTS{alertstate="firing"}"#, start, now_unix());
    result
        .iter()
        .map(|s| {
            let m = &s["metric"];
            let get = |k: &str| m[k].as_str().unwrap_or("").to_owned();
            (
                get("alertname"),
                get("node"),
                get("daemonset"),
                get("state"),
            )
        })
        .collect()
}

#[test]
fn real_prometheus_fires_the_rules_and_fills_every_panel_from_the_demo() {
    let dir = std::env::temp_dir().join(format!("dsguard-ship-prometheus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let dsguard_port = free_port();
    // Prometheus first, so that it scrapes the scenario from its beginning.
    let (_prometheus_process, prometheus) = start_prometheus(&dir, dsguard_port);
    let ready = Instant::now() + Duration::from_secs(30);
    eventually(ready, "Prometheus /-/ready", || {
        http_get(prometheus.port, "/-/ready")
            .ok()
            .filter(|(status, _)| *status == 200)
    });
    let start = now_unix();
    let started = Instant::now();
    let _demo = start_demo(dsguard_port);

    // Every rule loaded and evaluated without error.
    let deadline = started + Duration::from_secs(20);
    let rules = eventually(deadline, "the rules' first evaluation", || {
        let data = prometheus.api("/api/v1/rules");
        let rules: Vec<Value> = data["groups"]
            .as_array()?
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap().clone())
            .collect();
        (rules.len() == 9 && rules.iter().all(|r| r["health"] == "ok")).then_some(rules)
    });
    for rule in &rules {
        assert_eq!(rule["lastError"].as_str().unwrap_or(""), "", "{rule}");
    }

    // The scenario's alerts, in a real Prometheus, in the order the scenario produces them.
    let expected: BTreeSet<(String, String, String, String)> = [
        ("DaemonSetPodsStranded", "worker-3", "", ""),
        (
            "DaemonSetPodUnreplaced",
            "worker-3",
            "log-agent",
            "orphaned",
        ),
        (
            "DaemonSetPodUnreplaced",
            "worker-3",
            "node-exporter",
            "orphaned",
        ),
        (
            "DaemonSetPodUnreplaced",
            "worker-3",
            "storage-agent",
            "orphaned",
        ),
        (
            "DaemonSetPodUnreplaced",
            "worker-5",
            "storage-agent",
            "pending",
        ),
    ]
    .iter()
    .map(|(a, n, d, s)| (a.to_string(), n.to_string(), d.to_string(), s.to_string()))
    .collect();
    let deadline = started + Duration::from_secs_f64(LAST_ALERT_AT / SPEED) + SLACK;
    let got = eventually(deadline, "the scenario's alerts", || {
        let got = fired(&prometheus, start);
        got.is_superset(&expected).then_some(got)
    });
    assert_eq!(got, expected, "alerts fired in the demo");
    // The last one is firing now, with the contract's labels and a runbook.
    let alerts = prometheus.api("/api/v1/alerts")["alerts"].clone();
    let pending = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["state"] == "pending" && a["state"] == "firing")
        .unwrap_or_else(|| panic!("no firing unreplaced pending alert: {alerts}"));
    let labels = &pending["labels"];
    assert_eq!(labels["alertname"], "DaemonSetPodUnreplaced");
    assert_eq!(labels["severity"], "critical");
    assert_eq!(labels["namespace"], "kube-system");
    assert_eq!(labels["reason"], "unschedulable");
    let runbook = pending["annotations"]["runbook_url"].as_str().unwrap();
    assert!(runbook.ends_with("/docs/runbooks/DaemonSetPodUnreplaced.md"));
    let keys: BTreeSet<&str> = labels
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "alertname",
            "severity",
            "namespace",
            "daemonset",
            "node",
            "state",
            "reason"
        ]),
        "no replica labels (instance, job) leak into the alert"
    );

    let end = now_unix();
    // Every metric a rule reads exists in the demo's data.
    for rule in &rules {
        for metric in metric_names(rule["query"].as_str().unwrap()) {
            let result = prometheus.query_range(&format!("group({metric})"), start, end);
            assert!(
                has_number(&result),
                "rule {}: no data for {metric}",
                rule["name"]
            );
        }
    }

    // Every dashboard panel returns data at some moment of the demo.
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("dashboards")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let board: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (exprs, variables) = dashboard_exprs(&board);
        assert!(!exprs.is_empty(), "{name}: no panel queries");
        for (title, expr) in exprs {
            let query = substitute(&expr);
            let result = prometheus.query_range(&query, start, end);
            assert!(
                has_number(&result),
                "{name}, panel {title:?}: no data for {query}"
            );
            checked += 1;
        }
        for definition in variables {
            // label_values(<selector>, <label>)
            let inner = definition
                .strip_prefix("label_values(")
                .and_then(|d| d.strip_suffix(')'))
                .unwrap_or_else(|| panic!("{name}: variable query {definition}"));
            let (selector, label) = inner.rsplit_once(',').unwrap();
            let selector = substitute(selector.trim());
            let series = prometheus.api(&format!(
                "/api/v1/series?match[]={}&start={start:.3}&end={end:.3}",
                encode(&selector)
            ));
            let series = series.as_array().unwrap();
            assert!(
                !series.is_empty(),
                "{name}: variable {definition}: no series"
            );
            let label = label.trim();
            if label != "cluster" {
                // `cluster` comes from the operator's Prometheus; the demo's has none.
                assert!(
                    series.iter().any(|s| s[label].is_string()),
                    "{name}: variable {definition}: no {label} label"
                );
            }
        }
    }
    assert!(checked >= 30, "only {checked} panel queries found");
    // Kept on failure, with prometheus.log, for a look.
    let _ = std::fs::remove_dir_all(&dir);
}
