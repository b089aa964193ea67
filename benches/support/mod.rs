//! What the process benchmarks share: child processes killed on drop, a bare HTTP GET, the
//! simulator started in its own process, and figures read from `/proc`.

#![allow(dead_code)] // each benchmark uses a part of it

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `dsguard` binary measured: `DSGUARD_BENCH_BIN` if set (to measure another build, e.g.
/// an earlier commit's, against the same simulator and the same bare client), else this build's.
pub fn dsguard_bin() -> PathBuf {
    std::env::var_os("DSGUARD_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_dsguard").into())
}

/// One GET over a fresh connection; the status and the body.
pub fn get(addr: SocketAddr, path: &str, accept: &str) -> Option<(u16, Vec<u8>)> {
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

/// A field of `/proc/<pid>/status` in KiB (`VmRSS:`, `VmHWM:`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The CPU time (user + system) a process has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<u64>().ok())
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// A free local port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The median of some samples (times, or sizes in KiB).
pub fn median<T: Ord + Copy>(mut samples: Vec<T>) -> T {
    samples.sort();
    samples[samples.len() / 2]
}

/// A simulator in its own process (this build's binary), with its address and kubeconfig.
pub struct Sim {
    pub process: Killed,
    pub addr: SocketAddr,
    pub kubeconfig: PathBuf,
}

/// Starts `dsguard sim` with the given arguments (`--generate …` or `--scenario …`) and waits
/// until it answers and has written its kubeconfig.
pub fn start_sim(dir: &Path, args: &[&str]) -> Sim {
    let kubeconfig = dir.join("kubeconfig");
    let _ = std::fs::remove_file(&kubeconfig);
    let port = free_port();
    let process = Killed(
        Command::new(env!("CARGO_BIN_EXE_dsguard"))
            .arg("sim")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--kubeconfig-out"])
            .arg(&kubeconfig)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the simulator"),
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let wait = Instant::now();
    while get(addr, "/version", "application/json").is_none() || !kubeconfig.exists() {
        assert!(
            wait.elapsed() < Duration::from_secs(120),
            "the simulator did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Sim {
        process,
        addr,
        kubeconfig,
    }
}

/// Waits until `addr` answers `/readyz` with 200; the time it took from `since`.
pub fn wait_ready(addr: SocketAddr, since: Instant, limit: Duration) -> Duration {
    while get(addr, "/readyz", "application/json").map(|(s, _)| s) != Some(200) {
        assert!(since.elapsed() < limit, "dsguard did not get ready");
        std::thread::sleep(Duration::from_millis(5));
    }
    since.elapsed()
}
