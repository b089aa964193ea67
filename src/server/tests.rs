//! The routes through `tower::ServiceExt::oneshot`, and the golden exposition.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use jiff::SignedDuration;
use serde_json::Value;
use tower::ServiceExt;

use super::*;
use crate::base::{FixedClock, Timestamp};
use crate::cluster::build::{daemon_pod, daemonset, node};
use crate::cluster::{Object, Resource, WatchEvent};
use crate::model::Model;

fn at(seconds: i64) -> Timestamp {
    "2026-11-22T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

/// Three nodes, two DaemonSets; w-2 has been unreachable for 5 minutes, w-3 joined a minute
/// ago and `agent`'s pod there is unschedulable.
fn state(synced: bool) -> AppState {
    let now = at(600);
    let mut model = Model::new(
        crate::coverage::Settings::default(),
        SignedDuration::from_secs(60),
        at(0),
    );
    if synced {
        for resource in Resource::ALL {
            model.handle(WatchEvent::Synced(resource), at(0));
        }
    }
    let agent = daemonset("kube-system", "agent");
    let exporter = daemonset("monitoring", "exporter")
        .node_selector("role", "worker")
        .with_status(Default::default());
    for ds in [&agent, &exporter] {
        model.handle(WatchEvent::Applied(Object::DaemonSet(ds.clone())), at(0));
    }
    let old = at(-86_400);
    model.handle(
        WatchEvent::Applied(Object::Node(
            node("w-1").labelled("role", "worker").created_at(old),
        )),
        at(0),
    );
    model.handle(
        WatchEvent::Applied(Object::Node(
            node("w-2")
                .labelled("role", "worker")
                .created_at(old)
                .unreachable()
                .health_changed_at(at(300)),
        )),
        at(300),
    );
    model.handle(
        WatchEvent::Applied(Object::Node(
            node("w-3").created_at(at(540)).health_changed_at(at(545)),
        )),
        at(545),
    );
    for (ds, n) in [
        (&agent, "w-1"),
        (&exporter, "w-1"),
        (&agent, "w-2"),
        (&exporter, "w-2"),
    ] {
        let pod = daemon_pod(ds, n);
        let pod = if n == "w-2" { pod.not_ready() } else { pod };
        model.handle(WatchEvent::Applied(Object::Pod(pod)), at(0));
    }
    let pending = daemon_pod(&agent, "w-3")
        .created_at(at(550))
        .unschedulable("0/3 nodes are available: 1 Insufficient cpu.");
    model.handle(WatchEvent::Applied(Object::Pod(pending)), at(550));
    model.tick(now);
    app_state(model, now)
}

fn app_state(model: Model, now: Timestamp) -> AppState {
    let model = Arc::new(Mutex::new(model));
    let clock: Arc<dyn Clock> = Arc::new(FixedClock(now));
    let alerts: SharedEngine = Arc::new(Mutex::new(crate::alert::AlertEngine::new(
        Default::default(),
        None,
    )));
    alerts.lock().unwrap().evaluate(&model.lock().unwrap(), now);
    let metrics = Arc::new(Metrics::new(
        model.clone(),
        alerts.clone(),
        clock.clone(),
        false,
    ));
    let reconcile = crate::reconcile::Executor::new(
        Default::default(),
        crate::reconcile::ReconcileMetrics::register(
            &mut prometheus_client::registry::Registry::default(),
        ),
    )
    .handle();
    AppState {
        model,
        metrics,
        clock,
        alerts,
        reconcile,
        access: Access::new(Some(Token::new(TOKEN)), false),
        limits: HttpLimits::default(),
        leadership: None,
    }
}

/// The API token of [`state`].
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

async fn call(state: AppState, method: Method, uri: &str) -> (StatusCode, String) {
    call_accepting(state, method, uri, "application/json").await
}

async fn call_accepting(
    state: AppState,
    method: Method,
    uri: &str,
    accept: &str,
) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("accept", accept)
        .header("authorization", format!("Bearer {TOKEN}"));
    let response = router(state)
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn get_json(state: AppState, uri: &str) -> (StatusCode, Value) {
    let (status, body) = call(state, Method::GET, uri).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

#[tokio::test]
async fn coverage_lists_every_gap_and_filters_them() {
    let (status, body) = get_json(state(true), "/api/v1/coverage").await;
    assert_eq!(status, StatusCode::OK);
    let gaps: Vec<(&str, &str, &str)> = body["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["daemonset"].as_str().unwrap(),
                g["node"].as_str().unwrap(),
                g["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        gaps,
        vec![
            ("agent", "w-2", "stranded"),
            ("agent", "w-3", "pending"),
            ("exporter", "w-2", "stranded")
        ]
    );
    assert_eq!(body["blind"], Value::Null);
    assert_eq!(body["daemonsets"].as_array().unwrap().len(), 2);

    let (_, body) = get_json(state(true), "/api/v1/coverage?state=pending").await;
    assert_eq!(body["gaps"].as_array().unwrap().len(), 1);
    assert_eq!(body["gaps"][0]["reason"], "unschedulable");
    let (_, body) = get_json(
        state(true),
        "/api/v1/coverage?namespace=monitoring&node=w-2",
    )
    .await;
    assert_eq!(body["gaps"].as_array().unwrap().len(), 1);
    assert_eq!(body["daemonsets"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_filters_are_a_400_with_a_reason() {
    let (status, body) = get_json(state(true), "/api/v1/coverage?state=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "state: no state named \"lost\"");
    let (status, body) = get_json(state(true), "/api/v1/coverage?colour=red").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{body}"
    );
}

#[tokio::test]
async fn node_and_daemonset_pages_list_their_cells() {
    let (status, body) = get_json(state(true), "/api/v1/nodes/w-2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["health"], "unreachable");
    assert_eq!(body["cells"].as_array().unwrap().len(), 2);
    assert_eq!(body["cells"][0]["daemonset"], "agent");
    assert_eq!(body["cells"][0]["state"], "stranded");
    assert_eq!(
        body["cells"][0]["actionable"], true,
        "5 minutes past a 2-minute grace"
    );

    let (status, body) = get_json(state(true), "/api/v1/daemonsets/monitoring/exporter").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["desired"], 1,
        "w-1 only: w-2 is down, w-3 is no worker"
    );
    assert_eq!(body["mismatch"], true);
    let nodes: Vec<&str> = body["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, vec!["w-1", "w-2"]);
}

#[tokio::test]
async fn unknown_objects_paths_and_methods_answer_json_errors() {
    let (status, body) = get_json(state(true), "/api/v1/nodes/nope").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("no node named \"nope\""))
    );
    let (status, body) = get_json(state(true), "/api/v1/daemonsets/kube-system/nope").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::NOT_FOUND,
            Some("no DaemonSet named kube-system/nope")
        )
    );
    let (status, body) = get_json(state(true), "/api/v2/anything").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("no such path"))
    );
    let (status, body) = call(state(true), Method::POST, "/api/v1/coverage").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, r#"{"error":"method not allowed"}"#);
}

#[tokio::test]
async fn incidents_list_the_failed_node_and_its_lost_pods() {
    let (_, body) = get_json(state(true), "/api/v1/incidents").await;
    let open = body["open"].as_array().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["node"], "w-2");
    assert_eq!(open[0]["lost"].as_array().unwrap().len(), 2);
}

/// At startup the pods list may complete before the nodes list: every daemon pod is then bound
/// to a node the model has not seen, which looks exactly like an orphaned pod.
#[tokio::test]
async fn gap_listings_withhold_the_phantom_gaps_of_a_blind_start() {
    let blind_start = || {
        let mut model = Model::new(
            crate::coverage::Settings::default(),
            SignedDuration::from_secs(60),
            at(0),
        );
        let agent = daemonset("kube-system", "agent");
        model.handle(WatchEvent::Applied(Object::DaemonSet(agent.clone())), at(0));
        model.handle(WatchEvent::Synced(Resource::DaemonSets), at(0));
        for n in ["w-1", "w-2"] {
            model.handle(
                WatchEvent::Applied(Object::Pod(daemon_pod(&agent, n))),
                at(0),
            );
        }
        model.handle(WatchEvent::Synced(Resource::Pods), at(0));
        model.tick(at(1));
        assert_eq!(model.coverage().gaps(at(1)).len(), 2, "two phantom orphans");
        model
    };
    for path in [
        "/api/v1/coverage",
        "/api/v1/daemonsets/kube-system/agent",
        "/api/v1/nodes/w-1",
    ] {
        let (status, body) = get_json(app_state(blind_start(), at(1)), path).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert_eq!(body.get("gaps"), None, "{path}: {body}");
        assert_eq!(body.get("cells"), None, "{path}: {body}");
        assert_eq!(
            body["blind"]["reason"], "waiting for the first list of nodes",
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn readyz_says_why_dsguard_is_blind() {
    let (status, body) = get_json(state(false), "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["reason"], "waiting for the first list of nodes");
    let (status, body) = get_json(state(true), "/readyz").await;
    assert_eq!(
        (status, body["ready"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, body) = call(state(false), Method::GET, "/healthz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok\n"));
}

#[tokio::test]
async fn readyz_names_the_lease_holder_when_leader_election_is_on() {
    let leadership = crate::cluster::Leadership {
        identity: "dsguard-b".into(),
        leading: false,
        holder: Some("dsguard-a".into()),
    };
    let (_sender, receiver) = tokio::sync::watch::channel(leadership);
    let follower = AppState {
        leadership: Some(receiver),
        ..state(true)
    };
    let (status, body) = get_json(follower, "/readyz").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a follower is ready: it watches and serves"
    );
    assert_eq!(
        body["leader"],
        json!({"identity": "dsguard-b", "leading": false, "holder": "dsguard-a"})
    );
    let (_, body) = get_json(state(true), "/readyz").await;
    assert!(body.get("leader").is_none(), "no election, no leader field");
}

#[tokio::test]
async fn exposition_matches_the_golden_file() {
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let (status, body) = call_accepting(state(true), Method::GET, "/metrics", accept).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.ends_with("# EOF\n"), "OpenMetrics when asked for");
    let (_, text) = call(state(true), Method::GET, "/metrics").await;
    assert!(
        text.contains("# TYPE dsguard_watch_events_total counter") && !text.contains("# EOF"),
        "{text}"
    );
    let golden =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics/small.txt");
    let body = body.replace(env!("CARGO_PKG_VERSION"), "VERSION");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &body).unwrap();
    }
    let want = std::fs::read_to_string(&golden).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(normalise(&body), normalise(&want));
}

/// Sorts the label pairs of every sample, so that the comparison does not depend on the order
/// in which a label set was written.
fn normalise(exposition: &str) -> Vec<String> {
    let pair = regex::Regex::new(r#"[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*""#).unwrap();
    exposition
        .lines()
        .map(|line| match (line.find('{'), line.rfind('}')) {
            (Some(open), Some(close)) if !line.starts_with('#') => {
                let mut labels: Vec<&str> = pair
                    .find_iter(&line[open + 1..close])
                    .map(|m| m.as_str())
                    .collect();
                labels.sort_unstable();
                format!(
                    "{}{{{}}}{}",
                    &line[..open],
                    labels.join(","),
                    &line[close + 1..]
                )
            }
            _ => line.to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn alerts_are_listed_and_silences_are_created_listed_and_expired() {
    let state = state(true);
    let (status, body) = get_json(state.clone(), "/api/v1/alerts").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<(&str, &str)> = body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["labels"]["alertname"].as_str().unwrap(),
                a["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("DaemonSetPodsStranded", "firing"),
            ("DaemonSetControllerMismatch", "pending")
        ],
        "w-2 down 5 minutes; w-3's pending pod is within its grace; exporter's empty status differs"
    );

    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/silences")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::from(r#"{"matchers": ["node=w-2"], "duration": "1h", "created_by": "ops", "comment": "replacing it"}"#))
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, body) = get_json(state.clone(), "/api/v1/alerts").await;
    let stranded = body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "DaemonSetPodsStranded")
        .unwrap();
    assert_eq!(stranded["state"], "silenced");
    assert_eq!(stranded["silenced_by"][0], "s1");
    let (_, silences) = get_json(state.clone(), "/api/v1/silences").await;
    let id = silences[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        state.clone(),
        Method::DELETE,
        &format!("/api/v1/silences/{id}"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = get_json(state.clone(), &format!("/api/v1/silences/{id}")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let (status, _) = call(
        state.clone(),
        Method::DELETE,
        &format!("/api/v1/silences/{id}"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already expired");

    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/silences")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::from(
            r#"{"matchers": ["node"], "duration": "1h", "created_by": "ops"}"#,
        ))
        .unwrap();
    let response = router(state).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_reconcile_plan_is_served() {
    let (status, body) = get_json(state(true), "/api/v1/reconcile").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["mode"], "dry_run",
        "the default: plan, execute nothing"
    );
}

mod auth;
