//! The deploy manifests (`deploy/`): every kustomize overlay renders with the real
//! `kubectl kustomize`, and the rendered objects are what the docs promise: least-privilege RBAC
//! per overlay, a locked-down Deployment with probes and a state volume, settings that dsguard
//! loads, a Service and ServiceMonitor that keep scraping a blind dsguard, the shipped rules.
//! Also the Dockerfile, which cannot be built here (no container engine): its shape is checked.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde::Deserialize;
use serde_yaml_ng::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const READ: [&str; 3] = ["get", "list", "watch"];

/// `kubectl kustomize <dir>`, as objects.
fn render(dir: &str) -> Vec<Value> {
    let output = Command::new("kubectl")
        .args(["kustomize", dir])
        .current_dir(root())
        .output()
        .expect("kubectl must be installed");
    assert!(
        output.status.success(),
        "kubectl kustomize {dir}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

fn kinds(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found = find(objects, kind);
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| s.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Every (apiGroup, resource, verb) granted by the ClusterRoles and Roles, with the role's kind.
fn grants(objects: &[Value]) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for role in objects
        .iter()
        .filter(|o| o["kind"] == "ClusterRole" || o["kind"] == "Role")
    {
        let kind = role["kind"].as_str().unwrap().to_owned();
        for rule in role["rules"].as_sequence().unwrap() {
            for group in strings(&rule["apiGroups"]) {
                for resource in strings(&rule["resources"]) {
                    for verb in strings(&rule["verbs"]) {
                        out.insert((kind.clone(), group.clone(), resource.clone(), verb));
                    }
                }
            }
        }
    }
    out
}

fn base_grants() -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for (group, resource) in [("", "nodes"), ("", "pods"), ("apps", "daemonsets")] {
        for verb in READ {
            out.insert((
                "ClusterRole".into(),
                group.into(),
                resource.into(),
                verb.into(),
            ));
        }
    }
    out
}

const COMMON_KINDS: [&str; 11] = [
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "Deployment",
    "Namespace",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "PrometheusRule",
    "Service",
    "ServiceAccount",
    "ServiceMonitor",
];

#[test]
fn read_only_overlay_grants_no_write_verb() {
    let objects = render("deploy/overlays/read-only");
    assert_eq!(
        kinds(&objects),
        COMMON_KINDS.iter().map(|k| k.to_string()).collect()
    );
    let grants = grants(&objects);
    for (_, _, resource, verb) in &grants {
        assert!(
            READ.contains(&verb.as_str()),
            "write verb {verb} on {resource}"
        );
    }
    assert_eq!(grants, base_grants());
    assert_eq!(
        one(&objects, "Deployment")["spec"]["replicas"].as_u64(),
        Some(1)
    );
}

#[test]
fn enforce_overlay_adds_only_pod_delete_and_event_create() {
    let objects = render("deploy/overlays/enforce");
    let extra: BTreeSet<_> = grants(&objects)
        .difference(&base_grants())
        .cloned()
        .collect();
    let expected: BTreeSet<_> = [
        ("", "pods", "delete"),
        ("", "events", "create"),
        ("events.k8s.io", "events", "create"),
    ]
    .iter()
    .map(|(g, r, v)| {
        (
            "ClusterRole".to_string(),
            g.to_string(),
            r.to_string(),
            v.to_string(),
        )
    })
    .collect();
    assert_eq!(extra, expected);
    bindings_name_the_service_account(&objects);
}

#[test]
fn ha_overlay_runs_two_replicas_with_leases_and_configmaps_in_its_own_namespace_only() {
    let objects = render("deploy/overlays/ha");
    let extra: BTreeSet<_> = grants(&objects)
        .difference(&base_grants())
        .cloned()
        .collect();
    assert!(!extra.is_empty());
    for (kind, group, resource, verb) in &extra {
        assert!(
            [
                ("Role", "coordination.k8s.io", "leases"),
                ("Role", "", "configmaps")
            ]
            .contains(&(kind.as_str(), group.as_str(), resource.as_str())),
            "{kind} {group}/{resource} {verb}"
        );
        assert!(
            ["get", "create", "update"].contains(&verb.as_str()),
            "the leader election Role grants {verb}: nothing beyond get, create, update"
        );
    }
    for resource in ["leases", "configmaps"] {
        for verb in ["get", "create", "update"] {
            assert!(
                extra.iter().any(|(_, _, r, v)| r == resource && v == verb),
                "{verb} {resource} is granted"
            );
        }
    }
    // get and update by name: the Lease and the two ConfigMaps dsguard derives from the default
    // `ha.lease_name`, `dsguard`.
    let role = one(&objects, "Role");
    for rule in role["rules"].as_sequence().unwrap() {
        let verbs = strings(&rule["verbs"]);
        let names = strings(&rule["resourceNames"]);
        if verbs.iter().any(|v| v != "create") {
            let expected: &[&str] = match strings(&rule["resources"])[0].as_str() {
                "leases" => &["dsguard"],
                _ => &["dsguard-state", "dsguard-silences"],
            };
            assert_eq!(names, expected, "{rule:?}");
        } else {
            assert!(names.is_empty(), "create cannot be limited by name");
        }
    }
    assert_eq!(role["metadata"]["namespace"].as_str(), Some("dsguard"));
    let deployment = one(&objects, "Deployment");
    assert_eq!(deployment["spec"]["replicas"].as_u64(), Some(2));
    let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
    let env: Vec<&Value> = env.as_sequence().unwrap().iter().collect();
    assert!(
        env.iter()
            .any(|e| e["name"] == "DSGUARD__HA__ENABLED" && e["value"] == "true"),
        "the ha overlay turns leader election on"
    );
    assert!(
        env.iter().any(|e| e["name"] == "POD_NAME"
            && e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"),
        "each replica names itself in the Lease by its pod name"
    );
    let pdb = one(&objects, "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"].as_u64(), Some(1));
    assert!(pdb["spec"]["maxUnavailable"].is_null());
    bindings_name_the_service_account(&objects);
    // Leases and ConfigMaps nowhere else.
    for overlay in ["deploy/overlays/read-only", "deploy/overlays/enforce"] {
        let g = grants(&render(overlay));
        assert!(
            g.iter()
                .all(|(_, _, r, _)| r != "leases" && r != "configmaps"),
            "{overlay}"
        );
    }
}

fn bindings_name_the_service_account(objects: &[Value]) {
    for binding in objects
        .iter()
        .filter(|o| o["kind"] == "ClusterRoleBinding" || o["kind"] == "RoleBinding")
    {
        let subjects = binding["subjects"].as_sequence().unwrap();
        assert_eq!(subjects.len(), 1);
        assert_eq!(subjects[0]["name"].as_str(), Some("dsguard"));
        assert_eq!(subjects[0]["namespace"].as_str(), Some("dsguard"));
        let role = binding["roleRef"]["name"].as_str().unwrap();
        assert!(
            objects
                .iter()
                .any(|o| o["metadata"]["name"] == role && o["kind"] == binding["roleRef"]["kind"]),
            "{role}"
        );
    }
}

mod overlays;
