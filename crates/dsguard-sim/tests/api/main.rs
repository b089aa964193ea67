//! The simulated API server over HTTP, compared with what a real kube-apiserver v1.28 answered
//! to the same requests (`tests/fixtures/real-k8s/api/` of the workspace).

use std::collections::BTreeSet;
use std::time::Duration;

use dsguard_sim::testing::*;
use serde_json::{Value, json};

const CLUSTER: &str = "
name: api
settings: { node_status_interval: 1h, pod_termination_delay: 1h }
nodes:
  - { name: w, count: 3, labels: { node-type: worker, zone: a } }
daemonsets:
  - { name: log-agent, namespace: dsg, tolerations: [ { operator: Exists } ] }
  - { name: hostnet, namespace: dsg, host_network: true, node_selector: { node-type: worker } }
  - { name: zone-b, namespace: dsg, node_selector: { zone: b } }
  - { name: infra, namespace: kube-system }
";

/// Method, path, headers, body, expected HTTP code.
type BadRequest<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    Option<&'a str>,
    u16,
);

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn resource<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("no resource {name}"))
}

#[tokio::test]
async fn discovery_answers_like_the_real_server() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let version = get(addr, "/version").await;
    assert_eq!(version.status, 200);
    assert_eq!(
        version.json(),
        serde_json::from_str::<Value>(&fixture("version.json")).expect("fixture")
    );
    let api = get(addr, "/api").await.json();
    let real_api: Value = serde_json::from_str(&fixture("api.json")).expect("fixture");
    assert_eq!(keys(&api), keys(&real_api));
    assert_eq!(api["versions"], real_api["versions"]);
    let core = get(addr, "/api/v1").await.json();
    let real_core: Value = serde_json::from_str(&fixture("api-v1.json")).expect("fixture");
    assert_eq!(
        keys(&core),
        keys(&real_core),
        "the core list has no apiVersion, like the real one"
    );
    for name in [
        "nodes",
        "pods",
        "namespaces",
        "events",
        "configmaps",
        "pods/status",
        "nodes/status",
    ] {
        assert_eq!(resource(&core, name), resource(&real_core, name), "{name}");
    }
    let apps = get(addr, "/apis/apps/v1").await.json();
    let real_apps: Value = serde_json::from_str(&fixture("apis-apps-v1.json")).expect("fixture");
    for name in ["daemonsets", "daemonsets/status", "controllerrevisions"] {
        assert_eq!(resource(&apps, name), resource(&real_apps, name), "{name}");
    }
    let coordination = get(addr, "/apis/coordination.k8s.io/v1").await.json();
    assert_eq!(
        coordination,
        serde_json::from_str::<Value>(&fixture("apis-coordination-v1.json")).expect("fixture")
    );
    let groups = get(addr, "/apis").await.json();
    let real_groups: Value = serde_json::from_str(&fixture("apis.json")).expect("fixture");
    for group in groups["groups"].as_array().expect("groups") {
        assert!(
            real_groups["groups"]
                .as_array()
                .expect("groups")
                .contains(group),
            "{group}"
        );
    }
    assert_eq!(get(addr, "/apis/batch/v1").await.status, 404);
    sim.stop().await;
}

#[tokio::test]
async fn pages_follow_continue_tokens_to_every_item_once() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let full = get(addr, "/api/v1/pods").await.json();
    let total = full["items"].as_array().expect("items").len();
    assert_eq!(total, 3 * 3, "log-agent, hostnet and infra on three nodes");
    let real: Value = serde_json::from_str(&fixture("list-pods-limit3.json")).expect("fixture");
    let first = get(addr, "/api/v1/pods?limit=2").await.json();
    assert_eq!(keys(&first), keys(&real));
    assert_eq!(keys(&first["metadata"]), keys(&real["metadata"]));
    assert_eq!(
        keys(&first["items"][0]),
        keys(&real["items"][0]),
        "items carry no kind/apiVersion"
    );
    assert_eq!(first["metadata"]["remainingItemCount"], total - 2);
    let mut names: Vec<String> = Vec::new();
    let mut page = first;
    loop {
        assert_eq!(
            page["metadata"]["resourceVersion"],
            full["metadata"]["resourceVersion"]
        );
        names.extend(page["items"].as_array().expect("items").iter().map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap_or(""),
                p["metadata"]["name"].as_str().unwrap_or("")
            )
        }));
        let Some(token) = page["metadata"]["continue"].as_str() else {
            break;
        };
        page = get(addr, &format!("/api/v1/pods?limit=2&continue={token}"))
            .await
            .json();
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "pages come in key order without repeats");
    assert_eq!(names.len(), total);
    let bad = get(addr, "/api/v1/pods?limit=2&continue=gYGB").await;
    let (status, real_bad) = fixture_body("list-continue-bad.txt");
    assert_eq!(bad.status, status);
    let body = bad.json();
    assert_eq!(keys(&body), keys(&real_bad));
    assert_eq!(body["reason"], real_bad["reason"]);
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("invalid continue token: continue key is not valid: ")
    );
    sim.stop().await;
}

fn pod_names(list: &Value) -> BTreeSet<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn label_and_field_selectors_pick_what_the_real_server_picks() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let plain = json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"nodeName": "w-1", "containers": [{"name": "c", "image": "nginx"}]}});
    let created = request(
        addr,
        "POST",
        "/api/v1/namespaces/dsg/pods",
        &[("Content-Type", "application/json")],
        Some(&plain.to_string()),
    )
    .await;
    assert_eq!(created.status, 201);
    let all = pod_names(&get(addr, "/api/v1/pods").await.json());
    let daemon = pod_names(
        &get(addr, "/api/v1/pods?labelSelector=pod-template-generation")
            .await
            .json(),
    );
    assert_eq!(daemon.len(), all.len() - 1);
    assert!(!daemon.contains("web"));
    let not_daemon = pod_names(
        &get(addr, "/api/v1/pods?labelSelector=!pod-template-generation")
            .await
            .json(),
    );
    assert_eq!(not_daemon, BTreeSet::from(["web".to_string()]));
    let cases = [
        ("labelSelector=app%3Dlog-agent", 3),
        ("labelSelector=app%3D%3Dhostnet", 3),
        ("labelSelector=app!%3Dlog-agent", 7),
        ("labelSelector=app%20in%20(log-agent,web)", 4),
        ("labelSelector=app%20notin%20(log-agent,hostnet)", 4),
        ("fieldSelector=spec.nodeName%3Dw-1", 4),
        ("fieldSelector=spec.nodeName!%3Dw-1", 6),
        ("fieldSelector=metadata.name%3Dweb", 1),
        (
            "fieldSelector=metadata.namespace%3Ddsg,spec.nodeName%3Dw-2&labelSelector=app%3Dhostnet",
            1,
        ),
    ];
    for (query, expected) in cases {
        let list = get(addr, &format!("/api/v1/pods?{query}")).await.json();
        assert_eq!(
            list["items"].as_array().map(Vec::len),
            Some(expected),
            "{query}"
        );
    }
    let limited = get(
        addr,
        "/api/v1/pods?labelSelector=pod-template-generation&limit=2",
    )
    .await
    .json();
    let real: Value =
        serde_json::from_str(&fixture("list-daemon-pods-selector.json")).expect("fixture");
    assert_eq!(
        keys(&limited["metadata"]),
        keys(&real["metadata"]),
        "no remainingItemCount with a selector"
    );
    for (query, fixture_name) in [
        ("labelSelector=app%20in%20(a", "list-bad-label-selector.txt"),
        (
            "fieldSelector=spec.unknownField%3Dx",
            "list-bad-field-selector.txt",
        ),
    ] {
        let reply = get(addr, &format!("/api/v1/pods?{query}")).await;
        let (status, body) = fixture_body(fixture_name);
        assert_eq!((reply.status, reply.json()), (status, body), "{query}");
    }
    sim.stop().await;
}

#[tokio::test]
async fn errors_are_status_objects_like_the_real_servers() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let missing = get(addr, "/api/v1/nodes/does-not-exist").await;
    assert_eq!(
        (missing.status, missing.json()),
        fixture_body("get-404.txt")
    );
    assert_eq!(missing.header("content-type"), Some("application/json"));
    let node = get(addr, "/api/v1/nodes/w-1").await.json();
    let mut first = node.clone();
    first["metadata"]["labels"]["probe"] = json!("1");
    let ok = request(
        addr,
        "PUT",
        "/api/v1/nodes/w-1",
        &[("Content-Type", "application/json")],
        Some(&first.to_string()),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["metadata"]["labels"]["probe"], "1");
    let stale = request(
        addr,
        "PUT",
        "/api/v1/nodes/w-1",
        &[("Content-Type", "application/json")],
        Some(&node.to_string()),
    )
    .await;
    assert_eq!(
        (stale.status, stale.json()),
        fixture_body("update-409-stale-rv.txt")
    );
    let cases: [BadRequest; 11] = [
        ("GET", "/api/v1/widgets", &[], None, 404),
        ("GET", "/api/v1/pods?limit=many", &[], None, 400),
        (
            "GET",
            "/api/v1/pods?watch=true&timeoutSeconds=soon",
            &[],
            None,
            400,
        ),
        (
            "POST",
            "/api/v1/namespaces/dsg/pods",
            &[("Content-Type", "application/json")],
            Some("{not json"),
            400,
        ),
        (
            "POST",
            "/api/v1/namespaces/nowhere/pods",
            &[("Content-Type", "application/json")],
            Some("{\"metadata\":{\"name\":\"x\"}}"),
            404,
        ),
        (
            "PATCH",
            "/api/v1/nodes/w-1",
            &[("Content-Type", "application/json-patch+json")],
            Some("[]"),
            415,
        ),
        ("DELETE", "/api/v1/namespaces", &[], None, 405),
        (
            "PUT",
            "/api/v1/nodes/w-1",
            &[("Content-Type", "application/json")],
            Some("[]"),
            422,
        ),
        (
            "PATCH",
            "/api/v1/nodes/w-1",
            &[("Content-Type", "application/merge-patch+json")],
            Some(r#"{"spec":"nothing"}"#),
            422,
        ),
        (
            "POST",
            "/api/v1/nodes",
            &[("Content-Type", "application/json")],
            Some(r#"{"metadata":{"name":"n","labels":{"a":1}}}"#),
            422,
        ),
        (
            "POST",
            "/api/v1/nodes",
            &[("Content-Type", "application/json")],
            Some("{\"metadata\":{\"name\":\"w-1\"}}"),
            409,
        ),
    ];
    for (method, path, headers, body, code) in cases {
        let reply = request(addr, method, path, headers, body).await;
        assert_eq!(reply.status, code, "{method} {path}");
        let status = reply.json();
        assert_eq!(
            (status["kind"].as_str(), status["code"].as_u64()),
            (Some("Status"), Some(u64::from(code))),
            "{method} {path}: {status}"
        );
        assert_eq!(status["status"], "Failure");
    }
    sim.stop().await;
}

mod writes;
