use serde_json::json;

use super::*;

fn store() -> Store {
    let store = Store::new(SimClock::new(1.0), 4);
    store
        .create(Kind::Namespace, "", json!({"metadata": {"name": "dsg"}}))
        .expect("namespace");
    store
}

fn key(ns: &str, name: &str) -> Key {
    (ns.to_string(), name.to_string())
}

#[test]
fn create_stamps_server_fields_and_bumps_the_version() {
    let store = store();
    let before = store.current_rv();
    let pod = store
        .create(
            Kind::Pod,
            "dsg",
            json!({"metadata": {"generateName": "log-agent-"}}),
        )
        .expect("created");
    assert!(pod.key.1.starts_with("log-agent-") && pod.key.1.len() == "log-agent-".len() + 5);
    assert_eq!(pod.rv, before + 1);
    let value = pod.value();
    assert_eq!(value["kind"], "Pod");
    assert_eq!(value["metadata"]["namespace"], "dsg");
    assert_eq!(value["metadata"]["resourceVersion"], pod.rv.to_string());
    assert_eq!(value["metadata"]["uid"].as_str().map(str::len), Some(36));
}

#[test]
fn creating_in_a_missing_namespace_is_not_found() {
    let store = store();
    let error = store
        .create(Kind::Pod, "nowhere", json!({"metadata": {"name": "p"}}))
        .unwrap_err();
    assert_eq!(error.code(), 404);
}

#[test]
fn update_with_a_stale_resource_version_conflicts() {
    let store = store();
    let node = store
        .create(Kind::Node, "", json!({"metadata": {"name": "w-1"}}))
        .expect("created");
    let stale = node.rv.to_string();
    store
        .update(
            Kind::Node,
            &key("", "w-1"),
            json!({"metadata": {"name": "w-1", "resourceVersion": stale, "labels": {"a": "1"}}}),
        )
        .expect("first update wins");
    let error = store
        .update(
            Kind::Node,
            &key("", "w-1"),
            json!({"metadata": {"name": "w-1", "resourceVersion": stale}}),
        )
        .unwrap_err();
    assert_eq!(error.code(), 409);
}

#[test]
fn a_watch_from_a_compacted_version_is_expired() {
    let store = store();
    let start = store.current_rv();
    for i in 0..6 {
        store
            .create(
                Kind::Node,
                "",
                json!({"metadata": {"name": format!("n{i}")}}),
            )
            .expect("created");
    }
    let error = store.watch(Kind::Node, start).unwrap_err();
    assert_eq!(error.code(), 410);
    let recent = store
        .watch(Kind::Node, store.current_rv() - 2)
        .expect("recent is kept");
    assert_eq!(recent.backlog.len(), 2);
}

#[test]
fn an_unchanged_modify_writes_nothing() {
    let store = store();
    store
        .create(Kind::Node, "", json!({"metadata": {"name": "w-1"}}))
        .expect("created");
    let rv = store.current_rv();
    store
        .modify(Kind::Node, &key("", "w-1"), |_| Ok(()))
        .expect("modify");
    assert_eq!(store.current_rv(), rv);
}

#[test]
fn typed_json_splices_kind_and_api_version_in_front() {
    let store = store();
    let ds = store
        .create(
            Kind::DaemonSet,
            "dsg",
            json!({"metadata": {"name": "x"}, "spec": {}}),
        )
        .expect("created");
    let value: serde_json::Value = serde_json::from_slice(&ds.typed_json()).expect("valid json");
    assert_eq!(value["apiVersion"], "apps/v1");
    assert_eq!(value["metadata"]["generation"], 1);
}
