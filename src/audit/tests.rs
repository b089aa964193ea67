use std::collections::BTreeSet;

use super::*;
use crate::cluster::build::{daemon_pod, daemonset, node};
use crate::cluster::{Inventory, Share, TaintEffect, UpdateStrategy};
use crate::coverage::Settings;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn coverage_of(inventory: &Inventory, now: Timestamp) -> Coverage {
    let mut coverage = Coverage::new(Settings::default());
    for ds in &inventory.daemonsets {
        coverage.apply_daemonset(ds.clone(), now);
    }
    for node in &inventory.nodes {
        coverage.apply_node(node.clone(), now);
    }
    for pod in inventory.pods.iter().filter(|p| p.owner.is_some()) {
        coverage.apply_pod(pod.clone(), now);
    }
    coverage
}

fn story2(stage: &str) -> (Coverage, Timestamp) {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-k8s/story2");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{stage}.meta.json"))).unwrap(),
    )
    .unwrap();
    let now = at(meta["at"].as_str().unwrap());
    let mut inventory = Inventory::default();
    inventory
        .read(
            &dir.join(format!("{stage}.json")),
            crate::cluster::DEFAULT_MAX_INPUT_BYTES,
        )
        .unwrap();
    (coverage_of(&inventory, now), now)
}

fn summary(findings: &[Finding]) -> BTreeSet<(String, &'static str, &'static str)> {
    findings
        .iter()
        .map(|f| (f.daemonset.clone(), f.rule.as_str(), f.severity.as_str()))
        .collect()
}

#[test]
fn the_real_rollout_held_up_by_a_dead_node_is_named_with_the_node() {
    let (coverage, now) = story2("t3-rollout-with-dead-node");
    let findings = audit(&coverage, &AuditOptions::default(), now);
    let blocked: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == Rule::RolloutBlockedByDeadNode)
        .collect();
    assert_eq!(blocked.len(), 1, "{findings:#?}");
    assert_eq!(blocked[0].daemonset, "log-agent");
    assert_eq!(blocked[0].severity, Severity::Critical);
    assert_eq!(blocked[0].nodes, ["w-4"]);
    assert!(
        blocked[0].evidence.contains("updated 1 of 6"),
        "{}",
        blocked[0].evidence
    );
    assert!(
        blocked[0].evidence.contains("maxUnavailable 1"),
        "{}",
        blocked[0].evidence
    );

    // Every finding of the stage, written by hand from the dumps: all five DaemonSets have no
    // readiness probe and no preStop hook; those with more than one pod have a budget of one
    // pod (maxUnavailable 1, maxSurge 0); log-agent tolerates every taint and runs on infra-1.
    let mut expected = BTreeSet::new();
    for ds in [
        "hostnet",
        "infra-agent",
        "log-agent",
        "slow-ready",
        "zone-a-agent",
    ] {
        expected.insert((ds.to_owned(), "no_readiness_probe", "warning"));
        expected.insert((ds.to_owned(), "no_pre_stop", "info"));
        if ds != "infra-agent" {
            expected.insert((ds.to_owned(), "one_node_budget", "warning"));
        }
    }
    expected.insert((
        "log-agent".to_owned(),
        "rollout_blocked_by_dead_node",
        "critical",
    ));
    expected.insert(("log-agent".to_owned(), "tolerates_everything", "info"));
    assert_eq!(summary(&findings), expected, "{findings:#?}");
    let everything = findings
        .iter()
        .find(|f| f.rule == Rule::ToleratesEverything)
        .unwrap();
    assert_eq!(everything.nodes, ["infra-1"]);
}

#[test]
fn once_the_dead_node_is_deleted_the_rollout_finding_goes() {
    let (coverage, now) = story2("t4-dead-node-deleted");
    let findings = audit(&coverage, &AuditOptions::default(), now);
    assert!(
        !findings.iter().any(|f| matches!(
            f.rule,
            Rule::RolloutBlockedByDeadNode | Rule::RolloutIncomplete
        )),
        "{findings:#?}"
    );
}

#[test]
fn requests_that_do_not_fit_a_replacement_node_without_priority_name_it() {
    let now = at("2026-11-22T00:00:00Z");
    let mut ds = daemonset("kube-system", "storage-agent");
    ds.template.cpu_request_millis = 1500;
    let mut big = node("w-1");
    big.allocatable.cpu_millis = Some(4000);
    let mut small = node("w-5");
    small.allocatable.cpu_millis = Some(1000);
    let pod = daemon_pod(&ds, "w-5").unschedulable("0/2 nodes are available: 1 Insufficient cpu.");
    let inventory = Inventory {
        nodes: vec![big, small],
        daemonsets: vec![ds.clone()],
        pods: vec![daemon_pod(&ds, "w-1"), pod],
        ..Default::default()
    };
    let findings = audit(&coverage_of(&inventory, now), &AuditOptions::default(), now);
    let unfit = findings
        .iter()
        .find(|f| f.rule == Rule::PriorityUnfit)
        .expect("{findings:#?}");
    assert_eq!(unfit.severity, Severity::Critical);
    assert_eq!(unfit.nodes, ["w-5"]);
    assert!(
        unfit.evidence.contains("Insufficient cpu"),
        "{}",
        unfit.evidence
    );
    assert!(
        unfit.evidence.contains("no priorityClassName"),
        "{}",
        unfit.evidence
    );

    // The same with a priority class that preempts: the scheduler makes room, no finding.
    let mut inventory = inventory;
    inventory.daemonsets[0].template.priority_class = Some("system-node-critical".to_owned());
    let findings = audit(&coverage_of(&inventory, now), &AuditOptions::default(), now);
    assert!(
        !findings.iter().any(|f| f.rule == Rule::PriorityUnfit),
        "{findings:#?}"
    );
}

#[test]
fn allocatable_smaller_than_the_request_is_evidence_before_any_pod_exists() {
    let now = at("2026-11-22T00:00:00Z");
    let mut ds = daemonset("kube-system", "big");
    ds.template.memory_request_bytes = 4 << 30;
    let mut small = node("w-9");
    small.allocatable.memory_bytes = Some(2 << 30);
    let inventory = Inventory {
        nodes: vec![small],
        daemonsets: vec![ds],
        ..Default::default()
    };
    let findings = audit(&coverage_of(&inventory, now), &AuditOptions::default(), now);
    let unfit = findings
        .iter()
        .find(|f| f.rule == Rule::PriorityUnfit)
        .expect("{findings:#?}");
    assert!(
        unfit.evidence.contains("allocatable memory"),
        "{}",
        unfit.evidence
    );
    assert_eq!(unfit.nodes, ["w-9"]);
}

#[test]
fn a_selector_that_matches_no_node_and_a_missing_toleration_are_found() {
    let now = at("2026-11-22T00:00:00Z");
    let nowhere = daemonset("monitoring", "gpu-exporter").node_selector("gpu", "true");
    let plain = daemonset("monitoring", "agent");
    let inventory = Inventory {
        nodes: vec![
            node("w-1"),
            node("infra-1").tainted_with("dedicated", "infra", TaintEffect::NoExecute),
        ],
        daemonsets: vec![nowhere, plain.clone()],
        pods: vec![daemon_pod(&plain, "w-1")],
        ..Default::default()
    };
    let findings = audit(&coverage_of(&inventory, now), &AuditOptions::default(), now);
    let nowhere = findings
        .iter()
        .find(|f| f.rule == Rule::SelectorMatchesNoNode)
        .expect("{findings:#?}");
    assert_eq!(nowhere.daemonset, "gpu-exporter");
    assert!(
        nowhere.evidence.contains("gpu=true"),
        "{}",
        nowhere.evidence
    );
    let missing = findings
        .iter()
        .find(|f| f.rule == Rule::MissingToleration)
        .expect("{findings:#?}");
    assert_eq!(
        (missing.daemonset.as_str(), missing.nodes.as_slice()),
        ("agent", &["infra-1".to_owned()][..])
    );
    assert!(missing.evidence.contains("dedicated=infra:NoExecute"));
}

#[test]
fn on_delete_and_a_grace_longer_than_the_node_shutdown_are_reported() {
    let now = at("2026-11-22T00:00:00Z");
    let mut ds = daemonset("kube-system", "agent");
    ds.template.update = UpdateStrategy::OnDelete;
    ds.template.termination_grace_seconds = 120;
    let inventory = Inventory {
        nodes: vec![node("w-1")],
        daemonsets: vec![ds.clone()],
        pods: vec![daemon_pod(&ds, "w-1")],
        ..Default::default()
    };
    let coverage = coverage_of(&inventory, now);
    let rules = |options: &AuditOptions| -> Vec<Rule> {
        audit(&coverage, options, now)
            .iter()
            .map(|f| f.rule)
            .collect()
    };
    assert!(rules(&AuditOptions::default()).contains(&Rule::OnDelete));
    assert!(!rules(&AuditOptions::default()).contains(&Rule::TerminationGraceOverShutdown));
    let options = AuditOptions {
        node_shutdown_grace: Some(SignedDuration::from_secs(30)),
    };
    assert!(rules(&options).contains(&Rule::TerminationGraceOverShutdown));
}

#[test]
fn a_budget_in_percent_rounds_up_as_the_controller_does() {
    assert_eq!(Share::Percent(10).of(6), 1);
    assert_eq!(Share::Percent(10).of(11), 2);
    assert_eq!(Share::Count(2).of(100), 2);
}
