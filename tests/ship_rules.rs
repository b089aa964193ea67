//! The shipped Prometheus rules (`alerts/`): `promtool check rules` and `promtool test rules`
//! pass, the PrometheusRule copies are generated from the plain rules file, and the rules follow
//! the contract of `docs/alerts.md` (names, severities, a runbook per alert).
//!
//! promtool comes from the Debian package `prometheus` (`.ci/install`); without it these tests
//! fail, they do not skip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_yaml_ng::Value;

const RUNBOOK_BASE: &str = "https://github.com/dsguard/dsguard/blob/main/docs/runbooks/";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap()
}

fn promtool(args: &[&str]) -> String {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(root())
        .output()
        .expect("promtool must be installed (Debian package prometheus, see .ci/install)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// Every alerting rule of a rules document: (alert name, the rule).
fn alert_rules(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for group in doc["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            if let Some(name) = rule["alert"].as_str() {
                out.push((name.to_owned(), rule.clone()));
            }
        }
    }
    out
}

/// The contract's table: alert name -> severity.
fn contract() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in read("docs/alerts.md").lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 && cells[1].starts_with('`') && cells[1].ends_with('`') {
            let name = cells[1].trim_matches('`').to_owned();
            out.insert(name, cells[2].to_owned());
        }
    }
    out
}

#[test]
fn promtool_checks_the_rules_file() {
    let out = promtool(&["check", "rules", "alerts/dsguard.rules.yml"]);
    assert!(out.contains("SUCCESS: 9 rules found"), "{out}");
}

#[test]
fn promtool_unit_tests_pass() {
    let tests: Vec<String> = std::fs::read_dir(root().join("alerts/tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(!tests.is_empty());
    let mut args = vec!["test", "rules"];
    args.extend(tests.iter().map(String::as_str));
    let out = promtool(&args);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn unit_tests_cover_every_alert_firing_and_not_firing() {
    let rules = yaml(&read("alerts/dsguard.rules.yml"));
    let tests = yaml(&read("alerts/tests/dsguard.test.yml"));
    let (mut firing, mut quiet) = (BTreeSet::new(), BTreeSet::new());
    for test in tests["tests"].as_sequence().unwrap() {
        for case in test["alert_rule_test"].as_sequence().unwrap() {
            let name = case["alertname"].as_str().unwrap().to_owned();
            match case["exp_alerts"].as_sequence() {
                Some(alerts) if !alerts.is_empty() => firing.insert(name),
                _ => quiet.insert(name),
            };
        }
    }
    for (name, _) in alert_rules(&rules) {
        assert!(
            firing.contains(&name),
            "{name}: no unit test where it fires"
        );
        assert!(
            quiet.contains(&name),
            "{name}: no unit test where it stays quiet"
        );
    }
}

#[test]
fn rules_follow_the_contract_with_a_runbook_each() {
    let contract = contract();
    assert_eq!(contract.len(), 9, "docs/alerts.md's table: {contract:?}");
    let rules = alert_rules(&yaml(&read("alerts/dsguard.rules.yml")));
    let names: BTreeSet<&String> = rules.iter().map(|(n, _)| n).collect();
    assert_eq!(names, contract.keys().collect(), "alert names");
    for (name, rule) in &rules {
        assert_eq!(
            rule["labels"]["severity"].as_str(),
            Some(contract[name].as_str()),
            "{name}: severity"
        );
        let url = rule["annotations"]["runbook_url"].as_str().unwrap();
        assert_eq!(
            url,
            format!("{RUNBOOK_BASE}{name}.md"),
            "{name}: runbook_url"
        );
        let runbook = read(&format!("docs/runbooks/{name}.md"));
        assert!(runbook.starts_with(&format!("# {name}\n")), "{name}: title");
        for section in [
            "## What it means",
            "## How Kubernetes got here",
            "## Confirm",
            "## Fix",
            "## Escalate",
        ] {
            assert!(
                runbook.contains(section),
                "{name}'s runbook lacks {section}"
            );
        }
        assert!(runbook.contains("kubectl"), "{name}'s runbook: no kubectl");
        for key in ["summary", "description"] {
            assert!(
                rule["annotations"][key]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{name}: {key}"
            );
        }
        // Every coverage alert ignores a blind dsguard, as the engine holds its alerts back.
        let expr = rule["expr"].as_str().unwrap();
        if name != "DsguardBlind" {
            assert!(
                expr.contains("dsguard_blind == 1"),
                "{name}: not held back when blind"
            );
        }
    }
}

/// What `make rules` writes: the header, then the rules file indented under `spec:`.
fn generated_prometheus_rule() -> String {
    let mut out = String::from(
        "# Generated from alerts/dsguard.rules.yml by `make rules`; do not edit.\n\
         apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: dsguard\n  \
         labels:\n    app.kubernetes.io/name: dsguard\n    app.kubernetes.io/component: alert-rules\n\
         spec:\n",
    );
    for line in read("alerts/dsguard.rules.yml").lines() {
        if !line.is_empty() {
            out.push_str("  ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn prometheus_rule_copies_are_generated_from_the_rules_file() {
    let expected = generated_prometheus_rule();
    for copy in [
        "alerts/prometheusrule.yaml",
        "deploy/base/prometheusrule.yaml",
    ] {
        assert!(read(copy) == expected, "{copy} is stale: run `make rules`");
        let doc = yaml(&read(copy));
        assert_eq!(doc["kind"].as_str(), Some("PrometheusRule"));
        assert_eq!(
            doc["spec"],
            yaml(&read("alerts/dsguard.rules.yml")),
            "{copy}"
        );
    }
    // And promtool accepts the PrometheusRule's spec as a rules file.
    let dir = tempdir("ship-rules");
    let spec = dir.join("spec.yml");
    let doc = yaml(&read("alerts/prometheusrule.yaml"));
    std::fs::write(&spec, serde_yaml_ng::to_string(&doc["spec"]).unwrap()).unwrap();
    promtool(&["check", "rules", spec.to_str().unwrap()]);
}

#[test]
fn alertmanager_inhibit_rules_name_existing_alerts() {
    let doc = yaml(&read("alerts/alertmanager-inhibit.yml"));
    let contract = contract();
    let rules = doc["inhibit_rules"].as_sequence().unwrap();
    assert_eq!(rules.len(), 2);
    let text = read("alerts/alertmanager-inhibit.yml");
    for name in ["DsguardBlind", "DaemonSetPodsStranded"] {
        assert!(contract.contains_key(name) && text.contains(name));
    }
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
