use kube::Resource as _;

use super::*;

/// A list page as kube parses it: the items of kube's own `ObjectList`.
fn page(body: &str) -> Vec<Item<Pods>> {
    serde_json::from_str::<kube::core::ObjectList<Item<Pods>>>(body)
        .expect("the page parses although an item is malformed")
        .items
}

#[test]
fn a_malformed_item_is_skipped_on_its_own_and_its_neighbours_are_read() {
    let items = page(
        r#"{"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "9"}, "items": [
            {"metadata": {"name": "a", "namespace": "ns", "resourceVersion": "5"}, "status": {"phase": "Running"}},
            {"metadata": {"name": "broken", "namespace": "ns", "resourceVersion": "6"}, "status": {"phase": 42}},
            {"metadata": {"namespace": "ns", "resourceVersion": "7"}},
            {"metadata": {"name": "c", "namespace": "ns", "resourceVersion": "8"}}]}"#,
    );
    assert_eq!(items.len(), 4);
    assert!(matches!(&items[0].object, Ok(Object::Pod(p)) if p.key.name == "a"));
    assert_eq!(items[0].meta().resource_version.as_deref(), Some("5"));
    assert_eq!(items[1].object.as_ref().err(), Some(&"schema"));
    assert_eq!(items[1].name(), Some("broken"), "named in the log");
    assert_eq!(items[1].namespace(), Some("ns"));
    assert_eq!(items[1].meta().resource_version.as_deref(), Some("6"));
    assert_eq!(items[2].object.as_ref().err(), Some(&"missing_field"));
    assert_eq!(items[2].name(), None);
    assert_eq!(items[2].meta().resource_version.as_deref(), Some("7"));
    assert!(matches!(&items[3].object, Ok(Object::Pod(p)) if p.key.name == "c"));
}

#[test]
fn a_watch_event_carries_the_projected_object_and_its_resource_version() {
    let event: kube::core::WatchEvent<Item<Nodes>> = serde_json::from_str(
        r#"{"type": "MODIFIED", "object": {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": "w-1", "resourceVersion": "42", "labels": {"zone": "a"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}}"#,
    )
    .expect("a watch event");
    let kube::core::WatchEvent::Modified(item) = event else {
        panic!("not a modification");
    };
    assert_eq!(item.meta().resource_version.as_deref(), Some("42"));
    let Ok(Object::Node(node)) = item.object else {
        panic!("not a node");
    };
    assert_eq!(node.name, "w-1");
    assert_eq!(node.labels["zone"], "a");
    assert!(!node.is_down());
}

#[test]
fn items_name_the_api_resource_of_their_kind() {
    assert_eq!(Item::<Pods>::plural(&()), "pods");
    assert_eq!(Item::<Nodes>::kind(&()), "Node");
    assert_eq!(Item::<DaemonSets>::group(&()), "apps");
    assert_eq!(Item::<DaemonSets>::api_version(&()), "apps/v1");
    assert_eq!(
        Item::<Pods>::url_path(&(), Some("kube-system")),
        "/api/v1/namespaces/kube-system/pods"
    );
}
