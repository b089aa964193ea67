//! Receivers that echo secrets back, receivers that redirect, and settings that would echo a
//! secret in their error: no secret reaches a log line, an error, or the output of `dsguard
//! notify test`; no request follows a redirect; no setting's error repeats a secret value.

mod notify_common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use dsguard::base::SystemClock;
use dsguard::notification::Status;
use dsguard::notify::{Dispatcher, NotifyMetrics, Outcome, send_test};
use notify_common::{Script, TempDir, TestReceiver, capture_logs, settings, stranded, wait_until};
use serde_json::json;

/// Every secret of the settings below carries this, so one search finds any form of any of them.
const MARK: &str = "SECRET";

/// The query token, as configured (percent-encoded) and as the receiver decodes it.
const TOKEN_IN_URL: &str = "TOK%2FSECRET%3D77";
const TOKEN: &str = "TOK/SECRET=77";

/// A careless receiver: 400, and a body that repeats the request's credentials every way a real
/// one might: the decoded token, the raw query, the query Go-escaped in JSON (`\u003d` for `=`,
/// `\u0026` for `&`), the last path segment (a Slack URL's secret), the API key and the
/// `Authorization` header.
async fn echo(uri: Uri, headers: HeaderMap) -> (StatusCode, String) {
    let query = uri.query().unwrap_or("");
    let decoded: HashMap<String, String> = url_decode(query);
    let token = decoded.get("token").cloned().unwrap_or_default();
    let plain_query = query.replace("%2F", "/").replace("%3D", "=");
    let go = plain_query.replace('=', "\\u003d").replace('&', "\\u0026");
    let segment = uri.path().rsplit('/').next().unwrap_or("");
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let body = format!(
        "invalid token {token}; query {query}; segment {segment}; key {}; auth {}\n{{\"error\":\"bad request {go}\"}}",
        header("x-api-key"),
        header("authorization"),
    );
    (StatusCode::BAD_REQUEST, body)
}

fn url_decode(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%2F", "/").replace("%3D", "=")))
        .collect()
}

/// Serves `router` on a free loopback port.
async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A receiver that answers every request with 307 to `to`.
async fn redirector(to: String) -> SocketAddr {
    serve(Router::new().fallback(move || {
        let to = to.clone();
        async move {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, to)],
                "moved",
            )
        }
    }))
    .await
}

/// The receivers: a webhook and a Slack webhook at the echoing receiver, with secrets in the
/// URL's path and query, a bearer token and an API key.
fn receivers(echo: SocketAddr) -> serde_json::Value {
    json!([
        {"name": "hook", "webhook": {
            "url": format!("http://{echo}/hooks/PATHSEG-SECRET-5e1?token={TOKEN_IN_URL}&x=1"),
            "bearer_token": "BEARER-SECRET-77c",
            "headers": {"X-Api-Key": "APIKEY-SECRET-3f9"}}},
        {"name": "chat", "slack": {"url": format!("http://{echo}/services/T0/B0/SLACKSEG-SECRET-9a")}},
    ])
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(MARK), "a secret leaked into {what}:\n{text}");
}

#[tokio::test]
async fn an_echoing_receiver_leaks_no_secret_into_logs_or_errors() {
    let (logs, _guard) = capture_logs();
    let echo_addr = serve(Router::new().fallback(echo)).await;
    let s = settings(json!({
        "retry": {"initial_backoff": "50ms", "max_backoff": "100ms", "max_age": "5s"},
        "receivers": receivers(echo_addr),
    }));
    // The receiver does echo every secret, in every form.
    let probe = reqwest::Client::new()
        .post(format!("http://{echo_addr}/hooks/x?token={TOKEN_IN_URL}"))
        .header("x-api-key", "APIKEY-SECRET-3f9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for form in [
        TOKEN,
        TOKEN_IN_URL,
        "token\\u003dTOK/SECRET\\u003d77",
        "APIKEY-SECRET-3f9",
    ] {
        assert!(probe.contains(form), "{form} not echoed in {probe}");
    }

    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = NotifyMetrics::register(&mut registry);
    let (handle, run) = Dispatcher::start(&s, metrics.clone(), Arc::new(SystemClock)).unwrap();
    let _run = tokio::spawn(run);
    for receiver in ["hook", "chat"] {
        let n = stranded(receiver, "worker-2", &["fluentd"], Status::Firing);
        handle.sender().send(n).await.unwrap();
    }
    wait_until("both were refused", Duration::from_secs(20), || {
        metrics.count("hook", Outcome::Failed) == 1 && metrics.count("chat", Outcome::Failed) == 1
    })
    .await;
    let mut errors = Vec::new();
    for receiver in ["hook", "chat"] {
        errors.push(send_test(&s, receiver).await.unwrap_err().to_string());
    }
    let logs = logs.text();
    assert!(logs.contains("invalid token <redacted>"), "{logs}");
    assert!(
        errors[0].contains("400") && errors[0].contains("<redacted>"),
        "{}",
        errors[0]
    );
    assert!(errors[1].contains("segment <redacted>"), "{}", errors[1]);
    assert_no_secret("the logs", &logs);
    assert_no_secret("the errors", &errors.join("\n"));
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_not_reported_delivered() {
    let (logs, _guard) = capture_logs();
    let collector = TestReceiver::start(Script::default()).await;
    let moved = redirector(collector.url("/collect")).await;
    let s = settings(json!({
        "retry": {"initial_backoff": "50ms", "max_backoff": "100ms", "max_age": "5s"},
        "receivers": [{"name": "moved", "webhook": {
            "url": format!("http://{moved}/hook"),
            "headers": {"X-Api-Key": "REDIRECTED-KEY-SECRET"}}}],
    }));
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = NotifyMetrics::register(&mut registry);
    let (handle, run) = Dispatcher::start(&s, metrics.clone(), Arc::new(SystemClock)).unwrap();
    let _run = tokio::spawn(run);
    let n = stranded("moved", "worker-2", &["fluentd"], Status::Firing);
    handle.sender().send(n).await.unwrap();
    wait_until("the redirect was refused", Duration::from_secs(20), || {
        metrics.count("moved", Outcome::Failed) == 1
    })
    .await;
    let error = send_test(&s, "moved").await.unwrap_err().to_string();
    assert!(
        error.contains("307") && error.contains("redirect"),
        "{error}"
    );
    assert!(!error.contains("delivered"), "{error}");
    assert_eq!(metrics.count("moved", Outcome::Delivered), 0);
    assert_eq!(
        collector.count(),
        0,
        "nothing reached the redirect's target"
    );
    assert!(logs.text().contains("307"), "{}", logs.text());
    assert_no_secret("the logs", &logs.text());
}

/// Runs the binary (off the runtime, so that the receivers keep serving).
async fn run_dsguard(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dsguard"))
            .args(&args)
            .env_remove("DSGUARD__LOG__LEVEL")
            .output()
            .expect("dsguard runs")
    })
    .await
    .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsguard_notify_test_prints_no_secret_and_no_delivery_after_a_redirect() {
    let echo_addr = serve(Router::new().fallback(echo)).await;
    let collector = TestReceiver::start(Script::default()).await;
    let moved = redirector(collector.url("/collect")).await;
    let mut list = receivers(echo_addr);
    list.as_array_mut().unwrap().push(json!({"name": "moved", "webhook": {
        "url": format!("http://{moved}/hook"), "headers": {"X-Api-Key": "REDIRECTED-KEY-SECRET"}}}));
    let dir = TempDir::new("notify-leaks");
    // JSON is YAML, and the settings loader reads YAML.
    let config = dir.0.join("dsguard.yaml");
    std::fs::write(&config, json!({"notify": {"receivers": list}}).to_string()).unwrap();
    let config = config.to_str().unwrap().to_owned();
    for receiver in ["hook", "chat", "moved"] {
        let args = [
            "notify",
            "test",
            "--config",
            &config,
            "--receiver",
            receiver,
        ];
        let out = run_dsguard(args.iter().map(|a| (*a).to_owned()).collect()).await;
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{receiver}: {all}");
        assert_no_secret(
            &format!("`dsguard notify test --receiver {receiver}`"),
            &all,
        );
        assert!(!all.contains("delivered"), "{all}");
        let status = if receiver == "moved" { "307" } else { "400" };
        assert!(all.contains(status), "{all}");
    }
    assert_eq!(collector.count(), 0);
}

#[tokio::test]
async fn a_numeric_password_is_not_echoed_by_the_settings_error() {
    let dir = TempDir::new("notify-password");
    let config = dir.0.join("dsguard.yaml");
    std::fs::write(
        &config,
        "notify:\n  receivers:\n    - name: mail\n      email: { smtp: 'localhost:25', username: u, password: 12345, from: a@b.c, to: [d@e.f] }\n",
    )
    .unwrap();
    let args = ["notify", "list", "--config", config.to_str().unwrap()];
    let out = run_dsguard(args.iter().map(|a| (*a).to_owned()).collect()).await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("notify.receivers[0].email.password"), "{all}");
    assert!(all.contains("expected a string"), "{all}");
    assert!(!all.contains("12345"), "{all}");
}
