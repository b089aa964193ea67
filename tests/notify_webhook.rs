//! The webhook and Slack receivers through the dispatcher, against a real HTTP server on
//! 127.0.0.1 that fails the first N requests, answers 400 or 429, or is down for a while.

mod notify_common;

use std::sync::Arc;
use std::time::Duration;

use dsguard::base::SystemClock;
use dsguard::notification::Status;
use dsguard::notify::{Dispatcher, DispatcherHandle, NotifyMetrics, NotifySettings, Outcome};
use notify_common::{
    Script, TempDir, TestReceiver, capture_logs, free_addr, settings, stranded, wait_until,
};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(20);

fn start(
    settings: &NotifySettings,
) -> (DispatcherHandle, NotifyMetrics, tokio::task::JoinHandle<()>) {
    let metrics = NotifyMetrics::default();
    let (handle, run) =
        Dispatcher::start(settings, metrics.clone(), Arc::new(SystemClock)).unwrap();
    (handle, metrics, tokio::spawn(run))
}

fn fast_retry() -> serde_json::Value {
    json!({"initial_backoff": "50ms", "max_backoff": "200ms", "max_age": "1h"})
}

#[tokio::test]
async fn a_receiver_failing_the_first_three_requests_gets_the_notification_on_the_fourth() {
    let server = TestReceiver::start(Script {
        fail_first: 3,
        ..Script::default()
    })
    .await;
    let s = settings(
        json!({"retry": fast_retry(), "receivers": [{"name": "ops", "webhook": {
            "url": server.url("/hook"), "bearer_token": "tok", "headers": {"X-Team": "platform"}
        }}]}),
    );
    let (handle, metrics, _run) = start(&s);
    handle
        .sender()
        .send(stranded(
            "ops",
            "worker-2",
            &["fluentd", "node-exporter"],
            Status::Firing,
        ))
        .await
        .unwrap();
    wait_until("delivered", DEADLINE, || {
        metrics.count("ops", Outcome::Delivered) == 1
    })
    .await;
    assert_eq!(server.count(), 4, "three failures, then the success");
    assert_eq!(metrics.retry_count("ops"), 3);
    let last = server.requests().pop().unwrap();
    assert_eq!(last.uri, "/hook");
    assert_eq!(last.headers["authorization"], "Bearer tok");
    assert_eq!(last.headers["x-team"], "platform");
    assert!(last.headers.contains_key("idempotency-key"));
    let body = &last.body;
    assert_eq!(body["version"], "4");
    assert_eq!(body["status"], "firing");
    assert_eq!(body["receiver"], "ops");
    assert_eq!(body["groupLabels"]["node"], "worker-2");
    assert_eq!(body["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(body["alerts"][0]["labels"]["daemonset"], "fluentd");
    assert_eq!(body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    let keys: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.headers["idempotency-key"].clone())
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] == w[1]),
        "every retry carries the same key"
    );
}

#[tokio::test]
async fn a_receiver_answering_400_is_tried_once_and_the_next_notification_goes_out() {
    let server = TestReceiver::start(Script {
        fail_first: 1,
        fail_status: 400,
        ..Script::default()
    })
    .await;
    let s = settings(
        json!({"retry": fast_retry(), "receivers": [{"name": "ops", "webhook": {"url": server.url("/")}}]}),
    );
    let (handle, metrics, _run) = start(&s);
    let tx = handle.sender();
    tx.send(stranded("ops", "worker-1", &["fluentd"], Status::Firing))
        .await
        .unwrap();
    tx.send(stranded("ops", "worker-2", &["fluentd"], Status::Firing))
        .await
        .unwrap();
    // One worker per receiver delivers in order: the second can only be delivered once the
    // first was given up, so two requests in all prove the 400 was not retried.
    wait_until("the second is delivered", DEADLINE, || {
        metrics.count("ops", Outcome::Delivered) == 1
    })
    .await;
    assert_eq!(metrics.count("ops", Outcome::Failed), 1);
    assert_eq!(metrics.retry_count("ops"), 0);
    let groups: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.body["groupLabels"]["node"].clone())
        .collect();
    assert_eq!(groups, [json!("worker-1"), json!("worker-2")]);
}

#[tokio::test]
async fn a_429_is_retried_after_the_delay_the_receiver_asked_for() {
    let server = TestReceiver::start(Script {
        fail_first: 1,
        fail_status: 429,
        retry_after: Some("1".into()),
        ..Script::default()
    })
    .await;
    let s = settings(
        json!({"retry": {"initial_backoff": "10ms", "max_backoff": "5s"},
        "receivers": [{"name": "ops", "slack": {"url": server.url("/services/T/B/X")}}]}),
    );
    let (handle, metrics, _run) = start(&s);
    handle
        .sender()
        .send(stranded("ops", "worker-2", &["fluentd"], Status::Firing))
        .await
        .unwrap();
    wait_until("delivered", DEADLINE, || {
        metrics.count("ops", Outcome::Delivered) == 1
    })
    .await;
    let r = server.requests();
    let waited = r[1].at - r[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "waited only {waited:?}"
    );
}

#[tokio::test]
async fn a_notification_older_than_max_age_is_dropped_counted_and_logged() {
    let (logs, _guard) = capture_logs();
    let server = TestReceiver::start(Script {
        fail_first: usize::MAX,
        ..Script::default()
    })
    .await;
    let s = settings(
        json!({"retry": {"initial_backoff": "50ms", "max_backoff": "100ms", "max_age": "1s"},
        "receivers": [{"name": "ops", "webhook": {"url": server.url("/")}}]}),
    );
    let (handle, metrics, _run) = start(&s);
    handle
        .sender()
        .send(stranded("ops", "worker-2", &["fluentd"], Status::Firing))
        .await
        .unwrap();
    wait_until("expired", DEADLINE, || {
        metrics.count("ops", Outcome::Expired) == 1
    })
    .await;
    assert!(
        server.count() >= 3,
        "retried until it expired: {}",
        server.count()
    );
    assert!(
        logs.text().contains("older than notify.retry.max_age"),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn duplicates_are_dropped_repeats_are_sent_and_a_resolve_goes_out_once() {
    let server = TestReceiver::start(Script::default()).await;
    let s = settings(json!({"retry": fast_retry(), "receivers": [
        {"name": "ops", "webhook": {"url": server.url("/")}},
        {"name": "quiet", "send_resolved": false, "webhook": {"url": server.url("/quiet")}},
    ]}));
    let (handle, metrics, _run) = start(&s);
    let tx = handle.sender();
    let firing = stranded(
        "ops",
        "worker-2",
        &["fluentd", "kube-proxy"],
        Status::Firing,
    );
    tx.send(firing.clone()).await.unwrap();
    let mut again = stranded(
        "ops",
        "worker-2",
        &["kube-proxy", "fluentd"],
        Status::Firing,
    );
    tx.send(again.clone()).await.unwrap();
    again.repeat = true;
    tx.send(again).await.unwrap();
    let resolved = stranded(
        "ops",
        "worker-2",
        &["fluentd", "kube-proxy"],
        Status::Resolved,
    );
    tx.send(resolved.clone()).await.unwrap();
    // A second resolve, decided later: the same notification (same id) handed over again is not
    // even accepted (see the test below).
    let mut later = resolved;
    later.created_at += jiff::SignedDuration::from_secs(1);
    tx.send(later).await.unwrap();
    let mut quiet = firing.clone();
    quiet.receiver = "quiet".into();
    tx.send(quiet).await.unwrap();
    tx.send(stranded(
        "quiet",
        "worker-2",
        &["fluentd", "kube-proxy"],
        Status::Resolved,
    ))
    .await
    .unwrap();
    wait_until("all finished", DEADLINE, || {
        metrics.count("ops", Outcome::Delivered) == 3
            && metrics.count("ops", Outcome::ResolvedWithoutFiring) == 1
            && metrics.count("quiet", Outcome::ResolvedNotWanted) == 1
    })
    .await;
    assert_eq!(metrics.count("ops", Outcome::Duplicate), 1);
    let statuses: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.uri.clone(), r.body["status"].clone()))
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|(u, _)| u == "/")
            .map(|(_, s)| s.clone())
            .collect::<Vec<_>>(),
        [json!("firing"), json!("firing"), json!("resolved")],
        "the first, the repeat and one resolve"
    );
    assert_eq!(statuses.iter().filter(|(u, _)| u == "/quiet").count(), 1);
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_everything_once_it_is_back() {
    let addr = free_addr();
    let s = settings(
        json!({"retry": fast_retry(), "receivers": [{"name": "ops", "webhook": {"url": format!("http://{addr}/")}}]}),
    );
    let (handle, metrics, _run) = start(&s);
    let nodes: Vec<String> = (0..10).map(|i| format!("worker-{i}")).collect();
    for node in &nodes {
        handle
            .sender()
            .send(stranded("ops", node, &["fluentd"], Status::Firing))
            .await
            .unwrap();
    }
    wait_until("several attempts failed", DEADLINE, || {
        metrics.retry_count("ops") >= 3
    })
    .await;
    assert_eq!(metrics.count("ops", Outcome::Delivered), 0);
    let server = TestReceiver::start_on(addr, Script::default()).await;
    wait_until("all delivered", DEADLINE, || {
        metrics.count("ops", Outcome::Delivered) == 10
    })
    .await;
    let got: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.body["groupLabels"]["node"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, nodes, "each once, in order");
}

#[tokio::test]
async fn slack_gets_a_block_kit_message_naming_node_daemonset_reason_and_runbook() {
    let server = TestReceiver::start(Script::default()).await;
    let s = settings(
        json!({"receivers": [{"name": "chat", "slack": {"url": server.url("/services/T0/B0/XYZ"), "channel": "#ops"}}]}),
    );
    let (handle, metrics, _run) = start(&s);
    let tx = handle.sender();
    tx.send(stranded("chat", "worker-2", &["fluentd"], Status::Firing))
        .await
        .unwrap();
    tx.send(stranded("chat", "worker-2", &["fluentd"], Status::Resolved))
        .await
        .unwrap();
    wait_until("both delivered", DEADLINE, || {
        metrics.count("chat", Outcome::Delivered) == 2
    })
    .await;
    let r = server.requests();
    assert_eq!(r[0].uri, "/services/T0/B0/XYZ");
    let firing = r[0].body.to_string();
    for needle in [
        "worker-2",
        "kube-system/fluentd",
        "node_unreachable",
        "*Since*",
        "|Runbook>",
        "#ops",
    ] {
        assert!(firing.contains(needle), "{needle} in {firing}");
    }
    assert_eq!(r[0].body["blocks"][0]["type"], "header");
    let header = r[1].body["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(header.contains("RESOLVED"), "{header}");
}

#[tokio::test]
async fn dropping_the_sender_stops_the_dispatcher() {
    let server = TestReceiver::start(Script::default()).await;
    let s = settings(json!({"receivers": [{"name": "ops", "webhook": {"url": server.url("/")}}]}));
    let (handle, metrics, run) = start(&s);
    handle
        .sender()
        .send(stranded("ops", "worker-2", &["fluentd"], Status::Firing))
        .await
        .unwrap();
    drop(handle);
    tokio::time::timeout(DEADLINE, run)
        .await
        .expect("the dispatcher stopped")
        .unwrap();
    assert_eq!(
        metrics.count("ops", Outcome::Delivered),
        1,
        "what was queued got its last attempt"
    );
}

#[tokio::test]
async fn a_notification_handed_over_again_goes_out_once_also_after_a_restart() {
    let server = TestReceiver::start(Script::default()).await;
    let dir = TempDir::new("handed-again");
    let s = settings(
        json!({"state_dir": dir.0, "retry": fast_retry(), "receivers": [
            {"name": "ops", "webhook": {"url": server.url("/")}},
        ]}),
    );
    let (handle, metrics, run) = start(&s);
    let page = stranded("ops", "worker-2", &["fluentd"], Status::Firing);
    assert!(!handle.holds(&page));
    handle.sender().send(page.clone()).await.unwrap();
    wait_until("delivered", DEADLINE, || {
        metrics.count("ops", Outcome::Delivered) == 1
    })
    .await;
    assert!(handle.holds(&page), "held once finished");
    handle.sender().send(page.clone()).await.unwrap();
    wait_until("dropped as handed over again", DEADLINE, || {
        metrics.count("ops", Outcome::Duplicate) == 1
    })
    .await;
    drop(handle);
    run.await.unwrap();

    let (handle, metrics, _run) = start(&s);
    assert!(handle.holds(&page), "still held after a restart");
    handle.sender().send(page.clone()).await.unwrap();
    wait_until("dropped again", DEADLINE, || {
        metrics.count("ops", Outcome::Duplicate) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "sent once");
    assert_eq!(requests[0].headers["idempotency-key"], page.id());
}

#[tokio::test]
async fn a_follower_sends_nothing_until_it_leads_and_a_leader_stops_sending_when_it_steps_down() {
    let server = TestReceiver::start(Script::default()).await;
    let s = settings(
        json!({"retry": fast_retry(), "receivers": [{"name": "ops", "webhook": {
            "url": server.url("/hook")
        }}]}),
    );
    let (leader, leadership) = tokio::sync::watch::channel(dsguard::cluster::Leadership {
        identity: "dsguard-b".into(),
        leading: false,
        holder: Some("dsguard-a".into()),
    });
    let metrics = NotifyMetrics::default();
    let (handle, run) =
        Dispatcher::start_gated(&s, metrics.clone(), Arc::new(SystemClock), Some(leadership))
            .unwrap();
    let _run = tokio::spawn(run);
    let page = stranded("ops", "worker-2", &["fluentd"], Status::Firing);
    handle.sender().send(page).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.count(), 0, "a follower does not send");
    leader.send_modify(|l| l.leading = true);
    wait_until("delivered by the leader", DEADLINE, || {
        metrics.count("ops", Outcome::Delivered) == 1
    })
    .await;
    leader.send_modify(|l| l.leading = false);
    let other = stranded("ops", "worker-3", &["fluentd"], Status::Firing);
    handle.sender().send(other).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        server.count(),
        1,
        "a leader that stepped down sends nothing more"
    );
}
