//! `dsguard audit` end to end: on the recorded real cluster (the rollout held by a dead node at
//! t3, nothing critical once settled) and live against the simulator, where the demo's
//! replacement node is too small for one DaemonSet that has no priority class.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::kubectl::{kubectl, start_sim, temp, wait_until};
use serde_json::Value;

fn story2(stage: &str) -> (PathBuf, String) {
    let dir = dsguard_sim::testing::real_k8s().join("story2");
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{stage}.meta.json"))).unwrap(),
    )
    .unwrap();
    (
        dir.join(format!("{stage}.json")),
        meta["at"].as_str().unwrap().to_owned(),
    )
}

fn audit(args: &[&str]) -> (i32, Vec<Value>) {
    let output = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .arg("audit")
        .args(args)
        .args(["-o", "json"])
        .output()
        .expect("dsguard audit runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let findings: Vec<Value> = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), findings)
}

fn rules(findings: &[Value], severity: &str) -> Vec<(String, String)> {
    findings
        .iter()
        .filter(|f| f["severity"] == severity)
        .map(|f| {
            (
                f["daemonset"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_stalled_rollout_is_critical_and_fails_the_pipeline_while_the_settled_cluster_passes() {
    let (t3, at) = story2("t3-rollout-with-dead-node");
    let (code, findings) = audit(&["--input", t3.to_str().unwrap(), "--at", &at]);
    assert_eq!(code, 1, "a critical finding fails by default");
    assert_eq!(
        rules(&findings, "critical"),
        [(
            "log-agent".to_owned(),
            "rollout_blocked_by_dead_node".to_owned()
        )]
    );
    let blocked = findings
        .iter()
        .find(|f| f["rule"] == "rollout_blocked_by_dead_node")
        .unwrap();
    assert_eq!(blocked["nodes"], serde_json::json!(["w-4"]));
    assert!(
        blocked["fix"]
            .as_str()
            .unwrap()
            .contains("kubectl delete node")
    );

    let (t6, at) = story2("t6-settled");
    let (code, findings) = audit(&["--input", t6.to_str().unwrap(), "--at", &at]);
    assert!(rules(&findings, "critical").is_empty(), "{findings:#?}");
    assert_eq!(code, 0);
    let (code, _) = audit(&[
        "--input",
        t6.to_str().unwrap(),
        "--at",
        &at,
        "--fail-on",
        "warning",
    ]);
    assert_eq!(code, 1, "warnings fail with --fail-on warning");
    let (_, shown) = audit(&[
        "--input",
        t6.to_str().unwrap(),
        "--at",
        &at,
        "--min-severity",
        "warning",
    ]);
    assert!(shown.iter().all(|f| f["severity"] != "info"));
}

#[test]
fn live_the_replacement_node_too_small_for_a_daemonset_without_priority_is_named() {
    let kubeconfig = temp("audit-live.kubeconfig");
    // The demo at 10x: worker-5 (1 CPU) joins at 160 s; storage-agent requests 1.5 CPU.
    let _sim = start_sim(&kubeconfig, 10.0);
    wait_until(Duration::from_secs(40), "worker-5 to join", || {
        kubectl(&kubeconfig, &["get", "nodes", "-o", "name"]).contains("node/worker-5")
    });
    let (code, findings) = audit(&["--kubeconfig", kubeconfig.to_str().unwrap()]);
    let unfit: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "priority_unfit")
        .collect();
    assert_eq!(unfit.len(), 1, "{findings:#?}");
    assert_eq!(unfit[0]["daemonset"], "storage-agent");
    assert_eq!(unfit[0]["severity"], "critical");
    assert_eq!(unfit[0]["nodes"], serde_json::json!(["worker-5"]));
    assert_eq!(code, 1);
    let _ = std::fs::remove_file(&kubeconfig);
}
