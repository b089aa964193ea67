//! The real `kubectl` against `dsguard sim`: get nodes, pods (wide), DaemonSets, and a watch.
//! `kubectl` must be installed at /usr/bin/kubectl; without it this test fails.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Killed;
use common::kubectl::{KUBECTL, kubectl, start_sim, temp, wait_until};

fn columns(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn table(text: &str) -> (Vec<&str>, Vec<Vec<&str>>) {
    let mut lines = text.lines();
    let header = columns(lines.next().expect("a header"));
    (header, lines.map(columns).collect())
}

fn check_gets(kubeconfig: &Path) {
    let text = kubectl(kubeconfig, &["get", "nodes"]);
    let (header, rows) = table(&text);
    assert_eq!(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        names,
        ["infra-1", "worker-1", "worker-2", "worker-3", "worker-4"]
    );
    assert!(
        rows.iter().all(|r| r[1] == "Ready" && r[4] == "v1.28.0"),
        "{rows:?}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&kubectl(kubeconfig, &["get", "pods", "-A", "-o", "json"]))
            .expect("json");
    let text = kubectl(kubeconfig, &["get", "pods", "-A", "-o", "wide"]);
    let (header, rows) = table(&text);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    let items = json["items"].as_array().expect("items");
    assert_eq!(rows.len(), items.len());
    assert_eq!(
        rows.len(),
        5 + 4 + 4,
        "log-agent everywhere, two DaemonSets on the workers"
    );
    for row in &rows {
        let pod = items
            .iter()
            .find(|p| p["metadata"]["name"] == row[1])
            .expect("the row's pod");
        assert_eq!(row[0], pod["metadata"]["namespace"]);
        assert_eq!(row[7], pod["spec"]["nodeName"], "NODE column of {}", row[1]);
        assert_eq!(row[6], pod["status"]["podIP"], "IP column of {}", row[1]);
        assert_eq!((row[2], row[3]), ("1/1", "Running"), "{row:?}");
    }

    let text = kubectl(kubeconfig, &["get", "ds", "-A"]);
    let (header, rows) = table(&text);
    assert_eq!(
        header,
        [
            "NAMESPACE",
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE SELECTOR",
            "AGE"
        ]
    );
    let row = |name: &str| rows.iter().find(|r| r[1] == name).cloned().expect("row");
    assert_eq!(row("log-agent")[2..7], ["5", "5", "5", "5", "5"]);
    assert_eq!(
        row("storage-agent")[2..8],
        ["4", "4", "4", "4", "4", "node-type=worker"]
    );
}

fn check_watch(kubeconfig: &Path) {
    let out = temp("watch.out");
    let file = std::fs::File::create(&out).expect("output file");
    let watch = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "pods", "-A", "--watch"])
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl watch starts");
    let _watch = Killed(watch);
    let read = || std::fs::read_to_string(&out).unwrap_or_default();
    wait_until(Duration::from_secs(20), "the initial list", || {
        read().lines().count() >= 14
    });
    let victim = read()
        .lines()
        .find(|l| l.contains("log-agent-"))
        .and_then(|l| columns(l).get(1).map(|s| s.to_string()))
        .expect("a log-agent pod");
    kubectl(
        kubeconfig,
        &[
            "delete",
            "pod",
            "-n",
            "kube-system",
            &victim,
            "--wait=false",
        ],
    );
    wait_until(
        Duration::from_secs(20),
        "the watch to show the pod terminating",
        || {
            read()
                .lines()
                .any(|l| l.contains(&victim) && l.contains("Terminating"))
        },
    );
    let _ = std::fs::remove_file(&out);
}

#[test]
fn kubectl_gets_and_watches_the_simulated_cluster() {
    assert!(
        Path::new(KUBECTL).exists(),
        "{KUBECTL} is required for this test"
    );
    let kubeconfig = temp("kubeconfig.yaml");
    let _sim = start_sim(&kubeconfig, 1.0);
    check_gets(&kubeconfig);
    check_watch(&kubeconfig);
    let _ = std::fs::remove_file(&kubeconfig);
}
