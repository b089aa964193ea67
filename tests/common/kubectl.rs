//! `dsguard sim` as a child process with a kubeconfig, and the real `kubectl` against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Killed;

/// Where the machine image puts kubectl (Debian has no package for it).
pub const KUBECTL: &str = "/usr/bin/kubectl";

/// Polls `check` every 50 ms until it holds, failing the test after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A path in the temporary directory, unique to this test process.
pub fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("dsguard-test-{}-{name}", std::process::id()))
}

/// Starts `dsguard sim` on the demo scenario at `speed` and waits for its kubeconfig.
pub fn start_sim(kubeconfig: &Path, speed: f64) -> Killed {
    let _ = std::fs::remove_file(kubeconfig);
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/dsguard-sim/scenarios/demo.yaml");
    let child = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args(["sim", "--scenario"])
        .arg(&scenario)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--speed",
            &speed.to_string(),
            "--kubeconfig-out",
        ])
        .arg(kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dsguard sim starts");
    let running = Killed(child);
    wait_until(Duration::from_secs(30), "the kubeconfig", || {
        std::fs::read_to_string(kubeconfig).is_ok_and(|t| t.contains("server: http://127.0.0.1:"))
    });
    running
}

/// Runs kubectl against the kubeconfig; its standard output, or the test fails.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> String {
    let output = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--request-timeout", "10s"])
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        output.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}
