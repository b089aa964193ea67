//! The status page in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `.ci/install`) driven by `tests/peers/page_check.py` through
//! selenium against `dsguard demo`. No silent skip: a missing browser or driver fails the test.
//!
//! Screenshots go to `target/tmp/page-chromium/` (their paths are printed).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Scenario seconds per real second: the 300 s demo in 30 s, with a second between page polls
/// worth 10 s of scenario time, so every step of the story stays on screen for a few polls.
const SPEED: u32 = 10;

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn peer(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

#[test]
fn the_status_page_shows_the_stranded_node_its_alert_and_the_unschedulable_replacement() {
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: run .ci/install (Debian packages chromium, chromium-driver)"
        );
    }
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-chromium");
    std::fs::create_dir_all(&artifacts).unwrap();
    let port = free_port();
    let log = std::fs::File::create(artifacts.join("demo.log")).unwrap();
    let _demo = Guard(
        Command::new(env!("CARGO_BIN_EXE_dsguard"))
            .args(["demo", "--speed", &SPEED.to_string()])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("dsguard demo starts"),
    );
    let output = Command::new("python3")
        .arg(peer("page_check.py"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(&artifacts)
        .output()
        .expect("python3 runs (selenium from PyPI, see .ci/install)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "page_check.py failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("page check passed"), "{stdout}");
    for name in ["page-1-loaded", "page-2-stranded", "page-3-pending"] {
        assert!(artifacts.join(format!("{name}.png")).exists(), "{name}.png");
    }
}
