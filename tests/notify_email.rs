//! The email receiver against a real SMTP server (Python's aiosmtpd, `tests/peers/smtp_sink.py`):
//! the message arrives with the subject, a text part and an HTML part naming node, DaemonSet and
//! runbook; a 451 is retried, a 550 is not; a bad password is reported by `send_test`.

mod notify_common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use dsguard::base::SystemClock;
use dsguard::notification::Status;
use dsguard::notify::{Dispatcher, NotifyMetrics, Outcome, send_test};
use notify_common::{TempDir, free_addr, settings, stranded, wait_until};
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(20);

/// A running aiosmtpd, killed on drop.
struct SmtpSink {
    child: Child,
    port: u16,
    out: TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    fn start(extra: &[&str]) -> Self {
        let out = TempDir::new("smtp");
        let port = free_addr().port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&out.0)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (see .ci/install for aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "READY",
            "aiosmtpd did not start (pip install aiosmtpd)"
        );
        Self { child, port, out }
    }

    fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.out.0)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort_by_key(|p| {
            p.file_stem()
                .unwrap()
                .to_string_lossy()
                .parse::<u32>()
                .unwrap()
        });
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }
}

fn email_settings(port: u16, to: &[&str], password: &str) -> dsguard::notify::NotifySettings {
    settings(json!({
        "retry": {"initial_backoff": "50ms", "max_backoff": "200ms"},
        "receivers": [{"name": "mail", "email": {
            "smtp": format!("127.0.0.1:{port}"), "tls": "none", "timeout": "5s",
            "username": "dsguard", "password": password,
            "from": "dsguard <dsguard@example.com>", "to": to,
        }}]
    }))
}

#[tokio::test]
async fn a_real_smtp_server_receives_subject_text_and_html_after_a_temporary_failure() {
    let sink = SmtpSink::start(&[
        "--user",
        "dsguard",
        "--password",
        "s3cret",
        "--tempfail",
        "1",
    ]);
    let s = email_settings(
        sink.port,
        &["ops@example.com", "oncall@example.com"],
        "s3cret",
    );
    let metrics = NotifyMetrics::default();
    let (handle, run) = Dispatcher::start(&s, metrics.clone(), Arc::new(SystemClock)).unwrap();
    let _run = tokio::spawn(run);
    handle
        .sender()
        .send(stranded("mail", "worker-2", &["fluentd"], Status::Firing))
        .await
        .unwrap();
    handle
        .sender()
        .send(stranded("mail", "worker-2", &["fluentd"], Status::Resolved))
        .await
        .unwrap();
    wait_until("both delivered", DEADLINE, || {
        metrics.count("mail", Outcome::Delivered) == 2
    })
    .await;
    assert_eq!(metrics.retry_count("mail"), 1, "the 451 was retried");
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    let m = &messages[0];
    assert_eq!(
        m["subject"],
        "[FIRING:1] DaemonSetPodsStranded node=worker-2"
    );
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(m["to"], json!(["ops@example.com", "oncall@example.com"]));
    assert!(m["message_id"].as_str().unwrap().ends_with("@dsguard>"));
    let text = m["text"].as_str().unwrap();
    let html = m["html"].as_str().unwrap();
    for needle in [
        "worker-2",
        "kube-system/fluentd",
        "node_unreachable",
        "runbooks/DaemonSetPodsStranded.md",
    ] {
        assert!(text.contains(needle), "{needle} in text {text}");
        assert!(html.contains(needle), "{needle} in html {html}");
    }
    assert!(
        html.contains("<table>") && html.contains("<a href="),
        "{html}"
    );
    assert_eq!(
        messages[1]["subject"],
        "[RESOLVED] DaemonSetPodsStranded node=worker-2"
    );
}

#[tokio::test]
async fn a_rejected_recipient_is_not_retried() {
    let sink = SmtpSink::start(&["--reject-rcpt", "nobody"]);
    let s = settings(json!({
        "retry": {"initial_backoff": "50ms", "max_backoff": "200ms"},
        "receivers": [{"name": "mail", "email": {
            "smtp": format!("127.0.0.1:{}", sink.port), "tls": "none", "timeout": "5s",
            "from": "dsguard@example.com", "to": ["nobody@example.com"],
        }}]
    }));
    let metrics = NotifyMetrics::default();
    let (handle, run) = Dispatcher::start(&s, metrics.clone(), Arc::new(SystemClock)).unwrap();
    let _run = tokio::spawn(run);
    handle
        .sender()
        .send(stranded("mail", "worker-2", &["fluentd"], Status::Firing))
        .await
        .unwrap();
    wait_until("failed", DEADLINE, || {
        metrics.count("mail", Outcome::Failed) == 1
    })
    .await;
    assert_eq!(metrics.retry_count("mail"), 0);
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn notify_test_reports_the_servers_answer_to_a_bad_password_without_the_password() {
    let sink = SmtpSink::start(&["--user", "dsguard", "--password", "right"]);
    let s = email_settings(sink.port, &["ops@example.com"], "WRONG-PASSWORD-123");
    let error = send_test(&s, "mail").await.unwrap_err().to_string();
    assert!(error.contains("535"), "the server's reply: {error}");
    assert!(!error.contains("WRONG-PASSWORD-123"), "{error}");
    let good = email_settings(sink.port, &["ops@example.com"], "right");
    let report = send_test(&good, "mail").await.unwrap();
    assert!(report.contains("mail"), "{report}");
    wait_until("the test message arrived", DEADLINE, || {
        sink.messages().len() == 1
    })
    .await;
    let m = &sink.messages()[0];
    assert!(m["subject"].as_str().unwrap().starts_with("[TEST] "), "{m}");
    assert!(m["text"].as_str().unwrap().contains("dsguard notify test"));
}
