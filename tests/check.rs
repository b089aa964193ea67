//! `dsguard check` end to end: the binary on dumps from a real Kubernetes v1.28 cluster (whose
//! controller's own numbers are the oracle), on a hand-written dump, and on bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn dsguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args(args)
        .output()
        .expect("dsguard runs")
}

fn json_report(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check", "--output", "json"];
    all.extend_from_slice(args);
    let out = dsguard(&all);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.code().unwrap(), report)
}

fn real_k8s() -> PathBuf {
    dsguard_sim::testing::real_k8s().join("story2")
}

/// A DaemonSet's desired, current, ready, available and misscheduled numbers.
type Numbers = (String, [i64; 5]);

/// The DaemonSet controller's own numbers per stage, from `controller-status.txt`.
fn controller_numbers() -> Vec<(String, Vec<Numbers>)> {
    let text = std::fs::read_to_string(real_k8s().join("controller-status.txt")).unwrap();
    let mut stages: Vec<(String, Vec<Numbers>)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("== ") {
            stages.push((
                rest.split_whitespace().next().unwrap().to_owned(),
                Vec::new(),
            ));
        } else if !line.trim().is_empty() && !line.starts_with("NAME") {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let n = |i: usize| {
                if cols[i] == "<none>" {
                    0
                } else {
                    cols[i].parse().unwrap()
                }
            };
            stages
                .last_mut()
                .unwrap()
                .1
                .push((cols[0].to_owned(), [n(1), n(2), n(3), n(4), n(5)]));
        }
    }
    stages
}

/// The gaps each stage should show, written by hand from the stage notes.
fn expected_gaps(stage: &str) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    match stage {
        // w-3 stopped heartbeating: the three DaemonSets that run on it lost their pod.
        "t1-w3-failed" => vec![
            ("hostnet", "w-3", "stranded", "node_unreachable"),
            ("log-agent", "w-3", "stranded", "node_unreachable"),
            ("slow-ready", "w-3", "stranded", "node_unreachable"),
        ],
        // w-4 dead; log-agent's rollout is held up by its pod there, which cannot be deleted.
        "t3-rollout-with-dead-node" => vec![
            ("hostnet", "w-4", "stranded", "node_unreachable"),
            ("log-agent", "w-4", "stranded", "node_unreachable"),
            ("slow-ready", "w-4", "stranded", "node_unreachable"),
        ],
        // w-5 relabelled into zone a: zone-a-agent's new pod there has not started yet.
        "t5-relabel" => vec![("zone-a-agent", "w-5", "pending", "starting")],
        _ => vec![],
    }
}

#[test]
fn real_cluster_stages_match_the_controllers_numbers_and_the_notes() {
    let stages = controller_numbers();
    assert_eq!(stages.len(), 7, "seven stages recorded");
    for (stage, numbers) in stages {
        let dump = real_k8s().join(format!("{stage}.json"));
        let meta: Value = serde_json::from_str(
            &std::fs::read_to_string(real_k8s().join(format!("{stage}.meta.json"))).unwrap(),
        )
        .unwrap();
        let at = meta["at"].as_str().unwrap();
        let (code, report) = json_report(&["--input", dump.to_str().unwrap(), "--at", at]);
        assert_eq!(code, 0, "{stage}: no gap is actionable yet");

        for (name, [desired, current, ready, available, misscheduled]) in numbers {
            let row = report["daemonsets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["name"] == name.as_str())
                .unwrap_or_else(|| panic!("{stage}: {name} reported"));
            let ours = [
                &row["desired"],
                &row["current"],
                &row["ready"],
                &row["available"],
                &row["misscheduled"],
            ]
            .map(|v| v.as_i64().unwrap());
            assert_eq!(
                ours,
                [desired, current, ready, available, misscheduled],
                "{stage}: {name}"
            );
            assert_eq!(
                row["mismatch"], false,
                "{stage}: {name} agrees with its own status field too"
            );
        }

        let gaps: Vec<(String, String, String, String)> = report["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let s = |k: &str| g[k].as_str().unwrap().to_owned();
                (s("daemonset"), s("node"), s("state"), s("reason"))
            })
            .collect();
        let want: Vec<_> = expected_gaps(&stage)
            .into_iter()
            .map(|(d, n, s, r)| (d.to_owned(), n.to_owned(), s.to_owned(), r.to_owned()))
            .collect();
        assert_eq!(gaps, want, "{stage}");
    }
}

#[test]
fn rollout_held_up_by_a_dead_node_shows_in_updated_and_in_the_gap_detail() {
    let dump = real_k8s().join("t3-rollout-with-dead-node.json");
    let (_, report) = json_report(&[
        "--input",
        dump.to_str().unwrap(),
        "--at",
        "2026-11-22T00:12:54Z",
    ]);
    let log_agent = report["daemonsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "log-agent")
        .unwrap();
    assert_eq!(
        (log_agent["updated"].as_i64(), log_agent["desired"].as_i64()),
        (Some(1), Some(6))
    );
    let gap = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["daemonset"] == "log-agent")
        .unwrap();
    assert!(
        gap["detail"].as_str().unwrap().contains("being deleted"),
        "{gap}"
    );
    assert_eq!(
        gap["since"], "2026-11-22T00:11:55Z",
        "since the node's Ready transition"
    );
}

#[test]
fn stranded_pods_become_actionable_after_their_grace_period() {
    let dump = real_k8s().join("t1-w3-failed.json");
    let (code, report) = json_report(&[
        "--input",
        dump.to_str().unwrap(),
        "--at",
        "2026-11-22T00:10:43Z",
        "--grace",
        "stranded=10s",
    ]);
    assert_eq!(code, 1);
    assert!(
        report["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["actionable"] == true)
    );
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn hand_written_failure_story_reports_every_kind_of_gap() {
    let (code, report) = json_report(&[
        "--input",
        &fixture("failure-story.json"),
        "--at",
        "2026-11-22T12:00:00Z",
    ]);
    assert_eq!(code, 1, "four gaps are actionable");
    let gaps: Vec<(String, String, String, String, bool)> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let s = |k: &str| g[k].as_str().unwrap().to_owned();
            (
                s("daemonset"),
                s("node"),
                s("state"),
                s("reason"),
                g["actionable"].as_bool().unwrap(),
            )
        })
        .collect();
    let want = [
        (
            "agent",
            "n-dead",
            "stuck_terminating",
            "node_unreachable",
            true,
        ),
        ("agent", "n-gone", "orphaned", "node_gone", false),
        ("agent", "n-gpu", "misscheduled", "taint", true),
        ("agent", "n-new", "missing", "new_node", false),
        ("big", "n-dead", "stranded", "node_unreachable", true),
        ("big", "n-new", "pending", "unschedulable", false),
        ("big", "n-ok", "not_ready", "crash_loop", true),
    ]
    .map(|(d, n, s, r, a)| (d.to_owned(), n.to_owned(), s.to_owned(), r.to_owned(), a));
    assert_eq!(gaps, want);

    let by_name = |name: &str| {
        report["daemonsets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap()
            .clone()
    };
    let agent = by_name("agent");
    let counts = [
        "desired",
        "current",
        "ready",
        "available",
        "updated",
        "misscheduled",
    ]
    .map(|k| agent[k].as_i64().unwrap());
    assert_eq!(counts, [2, 1, 1, 1, 1, 2]);
    assert_eq!(agent["mismatch"], true, "the status in the dump is stale");
    let big = by_name("big");
    let counts = ["desired", "current", "ready", "available"].map(|k| big[k].as_i64().unwrap());
    assert_eq!(
        counts,
        [2, 2, 0, 0],
        "the unschedulable pod counts as current, as the controller counts it"
    );
    assert_eq!(big["controller"], Value::Null, "no status written");

    assert_eq!(report["skipped"]["ConfigMap"], 1);
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("dsguard.io/grace-pending"),
        "{warnings:?}"
    );

    let pending = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["state"] == "pending")
        .unwrap();
    assert!(
        pending["detail"]
            .as_str()
            .unwrap()
            .contains("Insufficient cpu")
    );
    assert_eq!(pending["pods"][0], "big-22222");
}

#[test]
fn text_report_matches_the_golden_file() {
    let out = dsguard(&[
        "check",
        "--input",
        &fixture("failure-story.json"),
        "--at",
        "2026-11-22T12:00:00Z",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check/failure-story.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let want = std::fs::read_to_string(&golden).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(text, want);
}

#[test]
fn several_inputs_and_stdin_are_merged() {
    let dump = std::fs::read(fixture("failure-story.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dsguard"))
        .args([
            "check",
            "--output",
            "json",
            "--at",
            "2026-11-22T12:00:00Z",
            "--input",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&dump).unwrap();
    let out = child.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["nodes"], 4);

    let t0 = real_k8s().join("t0-healthy.json");
    let (_, both) = json_report(&[
        "--input",
        &fixture("failure-story.json"),
        "--input",
        t0.to_str().unwrap(),
        "--at",
        "2026-11-22T12:00:00Z",
    ]);
    assert_eq!(both["nodes"], 10);
    assert_eq!(both["daemonsets"].as_array().unwrap().len(), 7);
}

#[test]
fn bad_input_exits_2_with_a_message_that_says_what_is_wrong() {
    let dir = std::env::temp_dir().join(format!("dsguard-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let cases = [
        (
            write(
                "truncated.json",
                "{\"kind\": \"List\", \"items\": [{\"kind\": \"Node\"",
            ),
            "truncated.json: not valid JSON",
        ),
        (write("array.json", "[]"), "array.json: no \"kind\""),
        (
            write(
                "badpod.json",
                r#"{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": 3}}]}"#,
            ),
            "badpod.json: items[0] (Pod ns/p): field status.phase: invalid type",
        ),
        (
            dir.join("absent.json").to_str().unwrap().to_owned(),
            "absent.json: cannot read",
        ),
    ];
    for (path, message) in cases {
        let out = dsguard(&["check", "--input", &path]);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{path}: {stderr}");
        assert!(stderr.contains(message), "{path}: {stderr}");
        assert!(out.stdout.is_empty(), "no report on bad input");
    }
    let out = dsguard(&[
        "check",
        "--input",
        &fixture("failure-story.json"),
        "--grace",
        "stranded=soon",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("--grace stranded=soon: \"soon\" is not a duration")
    );
    let out = dsguard(&[
        "check",
        "--input",
        &fixture("failure-story.json"),
        "--at",
        "yesterday",
    ]);
    assert_eq!(out.status.code(), Some(2), "clap rejects a bad time");
}

#[test]
fn daemonset_without_status_and_pod_without_node_are_handled() {
    let (code, report) = json_report(&[
        "--input",
        &fixture("loose-ends.json"),
        "--at",
        "2026-11-22T12:00:00Z",
    ]);
    assert_eq!(code, 0);
    let ds = &report["daemonsets"][0];
    assert_eq!(ds["controller"], Value::Null);
    assert_eq!(report["gaps"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["gaps"][0]["state"], "missing");
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("neither bound nor pinned"),
        "{warnings:?}"
    );
}
