//! `dsguard check` against a live cluster (the simulator through its kubeconfig) gives the same
//! DaemonSet rows and gaps as `dsguard check --input` of a real `kubectl get nodes,daemonsets,pods
//! -A -o json` dump taken at the same moment, and its filters narrow the report.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::kubectl::{kubectl, start_sim, temp, wait_until};
use serde_json::Value;

fn check(args: &[&str]) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .arg("check")
        .args(args)
        .output()
        .expect("dsguard check runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().expect("an exit code"), report)
}

/// The moment worker-3's Ready condition turned Unknown, from the API.
fn unknown_since(kubeconfig: &Path) -> Option<String> {
    let node: Value = serde_json::from_str(&kubectl(
        kubeconfig,
        &["get", "node", "worker-3", "-o", "json"],
    ))
    .ok()?;
    node["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "Unknown")
        .and_then(|c| c["lastTransitionTime"].as_str())
        .map(str::to_owned)
}

#[test]
fn the_live_check_equals_the_check_of_a_kubectl_dump_at_the_same_moment() {
    let kubeconfig = temp("check-live.kubeconfig");
    // 10x: worker-3 stops at 60 s of scenario time and turns Unknown about 40 s later; nothing
    // else changes until its deletion at 150 s, a window of about 5 s of real time.
    let _sim = start_sim(&kubeconfig, 10.0);
    let mut since = None;
    wait_until(Duration::from_secs(30), "worker-3 Unknown", || {
        since = unknown_since(&kubeconfig);
        since.is_some()
    });
    // Let the node lifecycle controller mark the node's pods not ready (same pass, next tick).
    std::thread::sleep(Duration::from_millis(500));
    let dump = kubectl(
        &kubeconfig,
        &["get", "nodes,daemonsets,pods", "-A", "-o", "json"],
    );
    let dump_file = temp("check-live-dump.json");
    std::fs::write(&dump_file, dump).unwrap();

    // One evaluation moment for both: 30 s after the failure, past the stranded grace (2 m) or
    // not does not matter, only that both agree.
    let at: jiff::Timestamp = since.unwrap().parse().unwrap();
    let at = (at + jiff::SignedDuration::from_secs(30)).to_string();
    let kube = kubeconfig.to_str().unwrap();
    let (live_code, live) = check(&["--kubeconfig", kube, "--at", &at, "-o", "json"]);
    let dump_path = dump_file.to_str().unwrap();
    let (dump_code, offline) = check(&["--input", dump_path, "--at", &at, "-o", "json"]);

    assert_eq!(live["gaps"], offline["gaps"], "gaps differ");
    assert_eq!(
        live["daemonsets"], offline["daemonsets"],
        "DaemonSet rows differ"
    );
    assert_eq!(live_code, dump_code);
    let stranded: Vec<&Value> = live["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["node"] == "worker-3" && g["state"] == "stranded")
        .collect();
    assert_eq!(stranded.len(), 3, "{:#}", live["gaps"]);

    // Filters: one namespace, one node and state, one DaemonSet by namespace/name.
    let (_, only) = check(&[
        "--kubeconfig",
        kube,
        "--at",
        &at,
        "-o",
        "json",
        "-n",
        "monitoring",
    ]);
    assert!(
        only["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["namespace"] == "monitoring")
    );
    assert_eq!(only["daemonsets"].as_array().unwrap().len(), 1);
    let (_, only) = check(&[
        "--input",
        dump_path,
        "--at",
        &at,
        "-o",
        "json",
        "--node",
        "worker-3",
        "--state",
        "stranded,missing",
    ]);
    assert_eq!(only["gaps"].as_array().unwrap().len(), 3);
    let (_, only) = check(&[
        "--input",
        dump_path,
        "--at",
        &at,
        "-o",
        "json",
        "-d",
        "kube-system/log-agent",
    ]);
    assert_eq!(only["gaps"].as_array().unwrap().len(), 1);
    assert_eq!(only["daemonsets"][0]["name"], "log-agent");
    let _ = std::fs::remove_file(&dump_file);
}

#[test]
fn an_unreachable_cluster_is_exit_code_2_with_a_message() {
    let kubeconfig = temp("check-unreachable.kubeconfig");
    // A port nothing listens on: bind one, learn its number, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {{}}\n"
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args(["check", "--kubeconfig", kubeconfig.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot list nodes"), "{stderr}");
    let _ = std::fs::remove_file(&kubeconfig);
}

#[test]
fn completions_are_generated_for_the_usual_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let output = Command::new(env!("CARGO_BIN_EXE_dsguard"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        for word in ["check", "reconcile", "kubeconfig"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
}
