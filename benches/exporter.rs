//! dsguard against the simulator's generated 5,000-node, 20-DaemonSet cluster, each in its own
//! process, through the real path (HTTP list and watch, the kube client): dsguard's resident
//! memory, its time from start to ready, and the time to render and fetch `/metrics`.
//!
//! Run: `cargo bench --bench exporter` (builds the release binary first). Prints its figures.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NODES: usize = 5_000;
const DAEMONSETS: usize = 20;
const RENDERS: usize = 20;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One GET over a fresh connection; the status and the body.
fn get(addr: SocketAddr, path: &str, accept: &str) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, raw[head_end + 4..].to_vec()))
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; this one only runs on purpose.
    }
    let bin = env!("CARGO_BIN_EXE_dsguard");
    let dir = std::env::temp_dir().join(format!("dsguard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    let sim_port = free_port();
    let sim = Killed(
        Command::new(bin)
            .args([
                "sim",
                "--generate",
                &format!("nodes={NODES},daemonsets={DAEMONSETS}"),
            ])
            .args([
                "--listen",
                &format!("127.0.0.1:{sim_port}"),
                "--kubeconfig-out",
            ])
            .arg(&kubeconfig)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the simulator"),
    );
    let sim_addr: SocketAddr = format!("127.0.0.1:{sim_port}").parse().unwrap();
    let wait = Instant::now();
    while get(sim_addr, "/version", "application/json").is_none() || !kubeconfig.exists() {
        assert!(
            wait.elapsed() < Duration::from_secs(120),
            "the simulator did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the generated cluster's pods start before dsguard lists them.
    std::thread::sleep(Duration::from_secs(5));

    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    let dsguard = Killed(
        Command::new(bin)
            .args(["run", "--listen", &addr.to_string(), "--kubeconfig"])
            .arg(&kubeconfig)
            .env("DSGUARD__LOG__LEVEL", "warn")
            .spawn()
            .expect("start dsguard"),
    );
    while get(addr, "/readyz", "application/json").map(|(s, _)| s) != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "dsguard did not get ready"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let ready = started.elapsed();
    std::thread::sleep(Duration::from_secs(3));
    let pid = dsguard.0.id();

    let mut results = Vec::new();
    for (format, accept) in [
        ("OpenMetrics", "application/openmetrics-text"),
        ("Prometheus text", "text/plain"),
    ] {
        let mut times = Vec::new();
        let mut bytes = 0;
        let mut series = 0;
        for _ in 0..RENDERS {
            let t = Instant::now();
            let (status, body) = get(addr, "/metrics", accept).expect("scrape");
            times.push(t.elapsed());
            assert_eq!(status, 200);
            bytes = body.len();
            series = String::from_utf8_lossy(&body)
                .lines()
                .filter(|l| !l.starts_with('#'))
                .count();
        }
        results.push((format, median(times), bytes, series));
    }
    let t = Instant::now();
    let (_, coverage) = get(addr, "/api/v1/coverage", "application/json").expect("coverage");
    let coverage_time = t.elapsed();

    println!(
        "dsguard against the simulator's generated cluster: {NODES} nodes, {DAEMONSETS} DaemonSets"
    );
    println!(
        "  time from start to ready (all watches listed):  {:>8.2} s",
        ready.as_secs_f64()
    );
    println!(
        "  dsguard resident memory now / peak:           {:>8.1} / {:.1} MiB",
        status_kib(pid, "VmRSS:") as f64 / 1024.0,
        status_kib(pid, "VmHWM:") as f64 / 1024.0
    );
    println!(
        "  simulator resident memory now / peak:         {:>8.1} / {:.1} MiB",
        status_kib(sim.0.id(), "VmRSS:") as f64 / 1024.0,
        status_kib(sim.0.id(), "VmHWM:") as f64 / 1024.0
    );
    for (format, time, bytes, series) in results {
        println!(
            "  GET /metrics ({format:<15}) median of {RENDERS}:  {:>8.2} ms  ({} KiB, {series} samples)",
            time.as_secs_f64() * 1000.0,
            bytes / 1024
        );
    }
    println!(
        "  GET /api/v1/coverage:                          {:>8.2} ms  ({} KiB)",
        coverage_time.as_secs_f64() * 1000.0,
        coverage.len() / 1024
    );
    drop(dsguard);
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
