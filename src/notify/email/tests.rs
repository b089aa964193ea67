use super::*;
use crate::notify::tests::firing;

#[test]
fn host_and_port_are_required() {
    assert_eq!(split_host_port("smtp.example.com:587").unwrap().1, 587);
    assert!(split_host_port("smtp.example.com").is_err());
    assert!(split_host_port("smtp.example.com:x").is_err());
    assert_eq!(split_host_port("[::1]:25").unwrap().0, "::1");
}

#[test]
fn both_bodies_name_node_daemonset_and_runbook_and_html_is_escaped() {
    let mut n = firing("g", &["a"]);
    n.alerts[0]
        .annotations
        .insert("summary".into(), "a <b> & c".into());
    let (text, html) = bodies(&n);
    for body in [&text, &html] {
        assert!(body.contains("worker-2"));
        assert!(body.contains("kube-system/fluentd"));
        assert!(body.contains("runbooks/DaemonSetPodsStranded"));
    }
    assert!(html.contains("a &lt;b&gt; &amp; c"));
    assert!(text.contains("a <b> & c"));
}

#[test]
fn a_username_without_password_is_refused_with_the_key() {
    let config: EmailConfig = serde_json::from_value(serde_json::json!({
        "smtp": "localhost:25", "username": "u", "from": "a@b.c", "to": ["d@e.f"]
    }))
    .unwrap();
    let e = config.validate("notify.receivers[1].email").unwrap_err();
    assert!(
        e.to_string().contains("notify.receivers[1].email.password"),
        "{e}"
    );
}
