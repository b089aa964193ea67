use super::*;

#[tokio::test]
async fn merge_patches_apply_and_respect_a_resource_version_precondition() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let headers = [("Content-Type", "application/merge-patch+json")];
    let patched = request(
        addr,
        "PATCH",
        "/api/v1/nodes/w-2",
        &headers,
        Some(r#"{"spec":{"unschedulable":true},"metadata":{"labels":{"zone":null}}}"#),
    )
    .await;
    assert_eq!(patched.status, 200);
    let node = patched.json();
    assert_eq!(node["spec"]["unschedulable"], true);
    assert!(node["metadata"]["labels"]["zone"].is_null());
    let stale = request(
        addr,
        "PATCH",
        "/api/v1/nodes/w-2",
        &headers,
        Some(r#"{"metadata":{"resourceVersion":"1","labels":{"a":"b"}}}"#),
    )
    .await;
    assert_eq!(stale.status, 409);
    // The node lifecycle emulation follows a cordon with the unschedulable taint.
    eventually(Duration::from_secs(10), "unschedulable taint", async || {
        let node = get(addr, "/api/v1/nodes/w-2").await.json();
        node["spec"]["taints"]
            .as_array()?
            .iter()
            .any(|t| t["key"] == "node.kubernetes.io/unschedulable")
            .then_some(())
    })
    .await;
    sim.stop().await;
}

#[tokio::test]
async fn a_graceful_delete_marks_the_pod_then_the_kubelet_removes_it() {
    let sim = start(scenario(CLUSTER), options(20.0)).await;
    let addr = sim.addr();
    let pods = get(addr, "/api/v1/namespaces/dsg/pods?fieldSelector=spec.nodeName%3Dw-1&labelSelector=app%3Dlog-agent").await.json();
    let name = pods["items"][0]["metadata"]["name"]
        .as_str()
        .expect("a pod on w-1")
        .to_string();
    let path = format!("/api/v1/namespaces/dsg/pods/{name}?gracePeriodSeconds=20");
    let deleted = request(addr, "DELETE", &path, &[], None).await;
    assert_eq!(deleted.status, 200);
    let pod = deleted.json();
    assert!(pod["metadata"]["deletionTimestamp"].is_string(), "{pod}");
    assert_eq!(pod["metadata"]["deletionGracePeriodSeconds"], 20);
    // The pod may go at its deletionTimestamp (whole seconds, as the real server writes it).
    let deadline: jiff::Timestamp = pod["metadata"]["deletionTimestamp"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("a deletion timestamp");
    let deadline = sim.store.clock().scenario_time_of(deadline);
    let still_there = get(addr, &format!("/api/v1/namespaces/dsg/pods/{name}")).await;
    assert_eq!(
        still_there.status, 200,
        "a graceful delete does not remove at once"
    );
    eventually(
        Duration::from_secs(10),
        "the kubelet removes the pod",
        async || {
            (get(addr, &format!("/api/v1/namespaces/dsg/pods/{name}"))
                .await
                .status
                == 404)
                .then_some(())
        },
    )
    .await;
    assert!(sim.elapsed() >= deadline, "not before the grace period");
    eventually(Duration::from_secs(10), "a replacement pod on w-1", async || {
        let pods = get(addr, "/api/v1/namespaces/dsg/pods?fieldSelector=spec.nodeName%3Dw-1&labelSelector=app%3Dlog-agent").await.json();
        (pods["items"].as_array()?.len() == 1 && pods["items"][0]["metadata"]["name"] != name.as_str()).then_some(())
    })
    .await;
    sim.stop().await;
}

#[tokio::test]
async fn a_watch_streams_changes_and_bookmarks_like_the_real_server() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let list = get(addr, "/api/v1/nodes").await.json();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    let mut watch = Watch::open(addr, &format!("/api/v1/nodes?watch=true&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=70")).await;
    // watch-nodes-bookmarks.jsonl: "# HTTP 200 application/json chunked"
    assert_eq!(watch.status, 200);
    assert_eq!(watch.header_value("content-type"), Some("application/json"));
    assert_eq!(watch.header_value("transfer-encoding"), Some("chunked"));
    let patch = r#"{"metadata":{"labels":{"probe":"2"}}}"#;
    request(
        addr,
        "PATCH",
        "/api/v1/nodes/w-2",
        &[("Content-Type", "application/merge-patch+json")],
        Some(patch),
    )
    .await;
    request(addr, "DELETE", "/api/v1/nodes/w-3", &[], None).await;
    let modified = watch.next(Duration::from_secs(5)).await.expect("MODIFIED");
    assert_eq!(
        (
            modified["type"].as_str(),
            modified["object"]["metadata"]["name"].as_str()
        ),
        (Some("MODIFIED"), Some("w-2"))
    );
    assert_eq!(modified["object"]["kind"], "Node");
    assert_eq!(modified["object"]["metadata"]["labels"]["probe"], "2");
    let deleted = watch.next(Duration::from_secs(5)).await.expect("DELETED");
    assert_eq!(
        (
            deleted["type"].as_str(),
            deleted["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("w-3"))
    );
    let bookmark = watch.next(Duration::from_secs(5)).await.expect("BOOKMARK");
    let real = fixture("watch-nodes-bookmarks.jsonl");
    let real_bookmark: Value =
        serde_json::from_str(real.lines().find(|l| l.contains("BOOKMARK")).expect("line"))
            .expect("json");
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(
        keys(&bookmark["object"]["metadata"]),
        keys(&real_bookmark["object"]["metadata"])
    );
    assert_eq!(
        bookmark["object"]["metadata"]["resourceVersion"],
        deleted["object"]["metadata"]["resourceVersion"]
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_watch_from_a_compacted_version_gets_200_and_one_410_event() {
    let mut options = options(1.0);
    options.history = 5;
    let sim = start(scenario(CLUSTER), options).await;
    let addr = sim.addr();
    let reply = get(addr, "/api/v1/nodes?watch=true&resourceVersion=2").await;
    let real = fixture("watch-rv-too-old.txt");
    let real_event: Value =
        serde_json::from_str(real.split("\n\n").nth(1).expect("body").trim()).expect("json");
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body.clone()).expect("utf-8");
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "{text}");
    let event: Value = serde_json::from_str(lines[0]).expect("json");
    assert_eq!(keys(&event), keys(&real_event));
    assert_eq!(keys(&event["object"]), keys(&real_event["object"]));
    assert_eq!(event["type"], real_event["type"]);
    for field in ["kind", "apiVersion", "status", "reason", "code"] {
        assert_eq!(
            event["object"][field], real_event["object"][field],
            "{field}"
        );
    }
    let message = event["object"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("too old resource version: 2 ("),
        "{message}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_watch_without_version_starts_with_every_object_and_ends_at_its_timeout() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let mut watch = Watch::open(
        addr,
        "/apis/apps/v1/namespaces/dsg/daemonsets?watch=1&timeoutSeconds=1",
    )
    .await;
    let mut names = BTreeSet::new();
    for _ in 0..3 {
        let event = watch.next(Duration::from_secs(5)).await.expect("ADDED");
        assert_eq!(event["type"], "ADDED");
        names.insert(
            event["object"]["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    assert_eq!(names.len(), 3);
    let started = std::time::Instant::now();
    while watch.next(Duration::from_secs(5)).await.is_some() {}
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the watch ends at timeoutSeconds"
    );
    sim.stop().await;
}

#[tokio::test]
async fn events_and_leases_can_be_created_listed_and_updated() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let json = [("Content-Type", "application/json")];
    let event = json!({
        "metadata": {"generateName": "dsguard-"},
        "involvedObject": {"kind": "Pod", "namespace": "dsg", "name": "log-agent-x"},
        "reason": "PodStuckTerminating", "message": "deleted a pod stuck terminating", "type": "Warning",
    });
    let created = request(
        addr,
        "POST",
        "/api/v1/namespaces/dsg/events",
        &json,
        Some(&event.to_string()),
    )
    .await;
    assert_eq!(created.status, 201);
    assert!(
        created.json()["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("dsguard-"))
    );
    let listed = get(addr, "/api/v1/namespaces/dsg/events?fieldSelector=involvedObject.name%3Dlog-agent-x,reason%3DPodStuckTerminating").await.json();
    assert_eq!(listed["kind"], "EventList");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    let deleted = request(
        addr,
        "DELETE",
        "/api/v1/namespaces/dsg/events?fieldSelector=reason%3DPodStuckTerminating",
        &[],
        None,
    )
    .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.json()["items"].as_array().map(Vec::len),
        Some(1),
        "deletecollection answers with what it deleted"
    );
    let left = get(addr, "/api/v1/namespaces/dsg/events").await.json();
    assert_eq!(left["items"].as_array().map(Vec::len), Some(0));
    let lease = json!({"metadata": {"name": "dsguard"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}});
    let path = "/apis/coordination.k8s.io/v1/namespaces/dsg/leases";
    let created = request(addr, "POST", path, &json, Some(&lease.to_string()))
        .await
        .json();
    let mut taken = created.clone();
    taken["spec"]["holderIdentity"] = json!("b");
    let updated = request(
        addr,
        "PUT",
        &format!("{path}/dsguard"),
        &json,
        Some(&taken.to_string()),
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["spec"]["holderIdentity"], "b");
    let mut late = created;
    late["spec"]["holderIdentity"] = json!("c");
    let conflict = request(
        addr,
        "PUT",
        &format!("{path}/dsguard"),
        &json,
        Some(&late.to_string()),
    )
    .await;
    assert_eq!(
        conflict.status, 409,
        "a second candidate with the old version loses"
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_streaming_list_ends_its_initial_events_with_a_marked_bookmark() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let addr = sim.addr();
    let mut watch = Watch::open(addr, "/api/v1/nodes?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=5").await;
    for _ in 0..3 {
        assert_eq!(
            watch.next(Duration::from_secs(5)).await.expect("ADDED")["type"],
            "ADDED"
        );
    }
    let bookmark = watch.next(Duration::from_secs(5)).await.expect("BOOKMARK");
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(
        bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    sim.stop().await;
}
