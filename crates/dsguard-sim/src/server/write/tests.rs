use super::*;

#[test]
fn merge_patch_replaces_merges_and_removes() {
    let mut node = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"taints": [1]}});
    merge_patch(
        &mut node,
        &json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"unschedulable": true, "taints": []}}),
    );
    assert_eq!(
        node,
        json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"taints": [], "unschedulable": true}})
    );
}

#[test]
fn a_second_graceful_delete_never_postpones_the_first() {
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("timestamp");
    let mut pod = json!({"metadata": {}});
    mark_deleted(&mut pod, 30, now);
    mark_deleted(&mut pod, 60, now);
    assert_eq!(pod["metadata"]["deletionTimestamp"], "2026-01-01T00:00:30Z");
    mark_deleted(&mut pod, 5, now);
    assert_eq!(pod["metadata"]["deletionGracePeriodSeconds"], 5);
}
