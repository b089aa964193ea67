//! Secrets planted in the settings (webhook URL path, bearer token, header value, Slack URL, SMTP
//! password) never appear in logs, error messages, metrics or the settings' debug output, even
//! when a receiver echoes the request back in its error or cannot be reached.

mod notify_common;

use std::sync::Arc;
use std::time::Duration;

use dsguard::base::SystemClock;
use dsguard::notification::Status;
use dsguard::notify::{Dispatcher, NotifyMetrics, Outcome, send_test};
use notify_common::{
    Script, TestReceiver, capture_logs, free_addr, settings, stranded, wait_until,
};
use serde_json::json;

const SECRETS: [&str; 6] = [
    "PATH-SECRET-1f3a",
    "QUERY-SECRET-77",
    "BEARER-SECRET-9c",
    "HEADER-SECRET-42",
    "SLACK-SECRET-0b5e",
    "SMTP-SECRET-d00d",
];

#[tokio::test]
async fn secrets_never_reach_logs_errors_or_metrics() {
    let (logs, _guard) = capture_logs();
    let echo = TestReceiver::start(Script {
        fail_first: usize::MAX,
        fail_status: 400,
        echo: true,
        ..Script::default()
    })
    .await;
    let down = free_addr();
    let s = settings(json!({
        "retry": {"initial_backoff": "50ms", "max_backoff": "100ms", "max_age": "1s"},
        "receivers": [
            {"name": "hook", "webhook": {
                "url": echo.url("/hooks/PATH-SECRET-1f3a?token=QUERY-SECRET-77"),
                "bearer_token": "BEARER-SECRET-9c",
                "headers": {"X-Api-Key": "HEADER-SECRET-42"}}},
            {"name": "chat", "slack": {"url": format!("http://{down}/services/T0/B0/SLACK-SECRET-0b5e")}},
            {"name": "mail", "email": {"smtp": format!("{down}"), "tls": "none", "timeout": "2s",
                "username": "dsguard", "password": "SMTP-SECRET-d00d",
                "from": "dsguard@example.com", "to": ["ops@example.com"]}},
        ]
    }));
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = NotifyMetrics::register(&mut registry);
    let (handle, run) = Dispatcher::start(&s, metrics.clone(), Arc::new(SystemClock)).unwrap();
    let _run = tokio::spawn(run);
    for receiver in ["hook", "chat", "mail"] {
        handle
            .sender()
            .send(stranded(receiver, "worker-2", &["fluentd"], Status::Firing))
            .await
            .unwrap();
    }
    wait_until("every notification ended", Duration::from_secs(20), || {
        metrics.count("hook", Outcome::Failed) == 1
            && metrics.count("chat", Outcome::Expired) == 1
            && metrics.count("mail", Outcome::Expired) == 1
    })
    .await;
    let mut errors = Vec::new();
    for receiver in ["hook", "chat", "mail"] {
        errors.push(send_test(&s, receiver).await.unwrap_err().to_string());
    }
    // The receiver did echo the secrets back: the scrubbing is what keeps them out.
    assert!(echo.requests()[0].headers["authorization"].contains("BEARER-SECRET-9c"));
    assert!(
        errors[0].contains("400") && errors[0].contains("<redacted>"),
        "{}",
        errors[0]
    );
    let mut exposition = String::new();
    prometheus_client::encoding::text::encode(&mut exposition, &registry).unwrap();
    let everything = format!(
        "{}\n{}\n{}\n{:?}",
        logs.text(),
        errors.join("\n"),
        exposition,
        s
    );
    for secret in SECRETS {
        assert!(
            !everything.contains(secret),
            "{secret} leaked in:\n{everything}"
        );
    }
    assert!(
        logs.text()
            .contains("notification dropped: the receiver refused it"),
        "{}",
        logs.text()
    );
    assert!(logs.text().contains("delivery failed; will retry"));
}
