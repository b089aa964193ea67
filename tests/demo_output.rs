//! `dsguard demo` tells the story: where the status page is, every notification as it goes out
//! (`PAGE`, then `RESOLVED`), and at the end what the failed node lost and what never came back.

use std::process::Command;

/// The 300 s scenario in 30 s, as people see it: worker-3's stranded alert fires 20 s of scenario
/// time (2 s) before the node is deleted, many ticks of the alert engine (250 ms) even on a busy
/// machine.
const SPEED: u32 = 10;

#[test]
fn the_demo_prints_the_page_url_the_pages_and_resolves_and_an_incident_summary() {
    let output = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args([
            "demo",
            "--speed",
            &SPEED.to_string(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("dsguard demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let find = |what: &str, pred: &dyn Fn(&str) -> bool| {
        lines
            .iter()
            .position(|l| pred(l))
            .unwrap_or_else(|| panic!("no line with {what} in:\n{stdout}"))
    };
    find("the status page URL", &|l| {
        l.contains("status page") && l.contains("http://127.0.0.1:") && l.trim_end().ends_with('/')
    });
    let page = find("the stranded page", &|l| {
        l.contains("PAGE") && l.contains("DaemonSetPodsStranded worker-3")
    });
    let resolved = find("its resolve", &|l| {
        l.contains("RESOLVED") && l.contains("DaemonSetPodsStranded worker-3")
    });
    assert!(page < resolved, "paged before resolved:\n{stdout}");
    find("the unreplaced page", &|l| {
        l.contains("PAGE") && l.contains("DaemonSetPodUnreplaced worker-5")
    });
    let summary = find("the summary", &|l| l.starts_with("Incident summary"));
    let tail = lines[summary..].join("\n");
    assert!(tail.contains("worker-3 failed at"), "{tail}");
    assert!(tail.contains("3 daemon pods lost"), "{tail}");
    assert!(tail.contains("never came back"), "{tail}");
    assert!(
        tail.contains("kube-system/storage-agent on worker-5: pending")
            && tail.contains("Insufficient cpu"),
        "{tail}"
    );
    // Logs to a pipe carry no terminal colour codes.
    assert!(!stderr.contains('\u{1b}'), "ANSI codes in {stderr}");
}
