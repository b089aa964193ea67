//! Settings of the `notify` section through the whole loader: the shape, the defaults and the
//! keys named by errors.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::settings::{Settings, SettingsError};

fn load(yaml: &str) -> Result<Settings, SettingsError> {
    // One file per call: tests run in parallel and several load the same text.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("dsguard-notify-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("s{}.yaml", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&file, yaml).unwrap();
    let result = Settings::load_with_env(Some(Path::new(&file)), Vec::new());
    let _ = std::fs::remove_file(&file);
    result
}

fn key_of(result: Result<Settings, SettingsError>) -> (String, String) {
    match result {
        Err(SettingsError::Invalid { key, reason }) => (key, reason),
        other => panic!("expected an invalid setting, got {other:?}"),
    }
}

const GOOD: &str = r##"
notify:
  state_dir: /tmp/dsguard-state-test
  retry: { initial_backoff: 2s, max_backoff: 1m, max_age: 30m }
  receivers:
    - name: ops-webhook
      webhook:
        url: https://hooks.example.com/SECRETPATH
        bearer_token: SECRET-TOKEN
        headers: { X-Team: ops }
        timeout: 5s
    - name: ops-slack
      send_resolved: false
      slack: { url: "https://hooks.slack.com/services/T0/B0/SLACKSECRET", channel: "#ops" }
    - name: ops-mail
      email:
        smtp: smtp.example.com:587
        tls: starttls
        username: dsguard
        password: SMTP-PASSWORD
        from: dsguard@example.com
        to: [ops@example.com]
    - name: am
      alertmanager: { url: "http://alertmanager:9093", resend_interval: 30s }
"##;

#[test]
fn the_documented_shape_loads_with_its_values() {
    let s = load(GOOD).unwrap();
    let n = &s.notify;
    assert_eq!(
        n.receiver_names(),
        ["ops-webhook", "ops-slack", "ops-mail", "am"]
    );
    assert_eq!(n.retry.initial_backoff.std().as_secs(), 2);
    assert!(
        n.receivers[0].send_resolved,
        "send_resolved defaults to true"
    );
    assert!(!n.receivers[1].send_resolved);
    assert_eq!(
        n.receivers[3]
            .alertmanager
            .as_ref()
            .unwrap()
            .resend_interval()
            .as_secs(),
        30
    );
}

#[test]
fn debug_output_of_the_settings_holds_no_secret() {
    let s = load(GOOD).unwrap();
    let text = format!("{s:?}");
    for secret in ["SECRETPATH", "SECRET-TOKEN", "SLACKSECRET", "SMTP-PASSWORD"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("hooks.slack.com"), "the host may show");
}

#[test]
fn a_bad_url_is_refused_naming_its_key() {
    let (key, reason) = key_of(load(
        "notify:\n  receivers:\n    - { name: a, webhook: { url: http://ok/ } }\n    - { name: b, slack: { url: http://ok/ } }\n    - { name: c, webhook: { url: 'not a url/SECRETPATH' } }\n",
    ));
    assert_eq!(key, "notify.receivers[2].webhook.url");
    assert!(!reason.contains("SECRETPATH"), "{reason}");
}

#[test]
fn a_bad_duration_is_refused_naming_its_key() {
    let (key, _) = key_of(load(
        "notify:\n  receivers:\n    - { name: a, webhook: { url: http://ok/, timeout: soon } }\n",
    ));
    assert_eq!(key, "notify.receivers[0].webhook.timeout");
    let (key, _) = key_of(load("notify:\n  retry: { max_age: 0s }\n"));
    assert_eq!(key, "notify.retry.max_age");
}

#[test]
fn a_duplicate_receiver_name_is_refused_naming_its_key() {
    let (key, reason) = key_of(load(
        "notify:\n  receivers:\n    - { name: a, webhook: { url: http://ok/ } }\n    - { name: a, slack: { url: http://ok/ } }\n",
    ));
    assert_eq!(key, "notify.receivers[1].name");
    assert!(reason.contains("duplicate"), "{reason}");
}

#[test]
fn an_unknown_receiver_kind_is_refused_naming_its_key() {
    let (key, reason) = key_of(load(
        "notify:\n  receivers:\n    - { name: a, pagerduty: { key: x } }\n",
    ));
    assert!(key.starts_with("notify.receivers[0]"), "{key}");
    assert!(reason.contains("pagerduty"), "{reason}");
}

#[test]
fn a_receiver_without_a_kind_or_with_two_is_refused() {
    let (key, _) = key_of(load("notify:\n  receivers:\n    - { name: a }\n"));
    assert_eq!(key, "notify.receivers[0]");
    let (key, _) = key_of(load(
        "notify:\n  receivers:\n    - { name: a, webhook: { url: http://x/ }, slack: { url: http://y/ } }\n",
    ));
    assert_eq!(key, "notify.receivers[0]");
}

#[test]
fn bad_email_addresses_and_servers_are_refused_naming_their_keys() {
    let (key, _) = key_of(load(
        "notify:\n  receivers:\n    - { name: m, email: { smtp: 'mail', from: a@b.c, to: [d@e.f] } }\n",
    ));
    assert_eq!(key, "notify.receivers[0].email.smtp");
    let (key, _) = key_of(load(
        "notify:\n  receivers:\n    - { name: m, email: { smtp: 'mail:25', from: a@b.c, to: [d@e.f, nope] } }\n",
    ));
    assert_eq!(key, "notify.receivers[0].email.to[1]");
}

#[test]
fn a_secret_of_the_wrong_type_is_refused_without_its_value() {
    for (receiver, key) in [
        (
            "email: { smtp: 'mail:25', username: u, password: 12345, from: a@b.c, to: [d@e.f] }",
            "notify.receivers[0].email.password",
        ),
        (
            "webhook: { url: http://ok/, bearer_token: 12345 }",
            "notify.receivers[0].webhook.bearer_token",
        ),
        (
            "webhook: { url: http://ok/, headers: { X-Api-Key: 12345 } }",
            "notify.receivers[0].webhook.headers.X-Api-Key",
        ),
        ("slack: { url: 12345 }", "notify.receivers[0].slack.url"),
        ("webhook: 12345", "notify.receivers[0].webhook"),
    ] {
        let yaml = format!("notify:\n  receivers:\n    - {{ name: a, {receiver} }}\n");
        let (got, reason) = key_of(load(&yaml));
        assert_eq!(got, key);
        assert!(!reason.contains("12345"), "{key}: {reason}");
        assert!(
            reason.starts_with("invalid type: integer, expected"),
            "{reason}"
        );
    }
    let (_, reason) = key_of(load(
        "notify:\n  receivers:\n    - { name: a, webhook: { url: http://ok/, tls: x } }\n",
    ));
    assert!(
        reason.contains("unknown field `tls`"),
        "key names still show: {reason}"
    );
}

#[test]
fn a_state_dir_that_cannot_be_made_or_written_is_refused_naming_its_key() {
    let file = std::env::temp_dir().join(format!("dsguard-state-file-{}", std::process::id()));
    std::fs::write(&file, "").unwrap();
    for dir in [
        file.join("state"),
        file.clone(),
        "/proc/dsguard-state".into(),
    ] {
        let yaml = format!("notify:\n  state_dir: {}\n", dir.display());
        let (key, reason) = key_of(load(&yaml));
        assert_eq!(key, "notify.state_dir", "{}", dir.display());
        assert!(reason.contains(&dir.display().to_string()), "{reason}");
    }
    let _ = std::fs::remove_file(&file);
    let fresh = std::env::temp_dir().join(format!("dsguard-state-new-{}/a/b", std::process::id()));
    let yaml = format!("notify:\n  state_dir: {}\n", fresh.display());
    assert!(
        load(&yaml).is_ok(),
        "a directory that can be created is fine"
    );
    assert!(!fresh.exists(), "validation creates nothing");
}

#[test]
fn zero_intervals_are_refused_naming_their_key() {
    for (yaml, key) in [
        (
            "alerting:\n  route: { group_interval: 0s }\n",
            "alerting.route.group_interval",
        ),
        (
            "alerting:\n  route: { routes: [ { repeat_interval: 0s } ] }\n",
            "alerting.route.routes[0].repeat_interval",
        ),
        (
            "notify:\n  retry: { initial_backoff: 0s }\n",
            "notify.retry.initial_backoff",
        ),
        (
            "notify:\n  retry: { max_backoff: 0s }\n",
            "notify.retry.max_backoff",
        ),
        (
            "notify:\n  retry: { max_age: 0s }\n",
            "notify.retry.max_age",
        ),
    ] {
        let (got, reason) = key_of(load(yaml));
        assert_eq!(got, key, "{yaml}");
        assert!(reason.contains("more than zero"), "{reason}");
    }
}

#[test]
fn a_syntax_error_does_not_quote_the_line_with_the_secret() {
    let dir = std::env::temp_dir().join(format!("dsguard-notify-toml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[notify]\nreceivers = [ { name = \"a\", webhook = { url = \"http://x/SECRETPATH\" bearer_token = \"t\" } } ]\n",
    )
    .unwrap();
    let error = Settings::load_with_env(Some(Path::new(&file)), Vec::new())
        .unwrap_err()
        .to_string();
    let _ = std::fs::remove_file(&file);
    assert!(!error.contains("SECRETPATH"), "{error}");
    assert!(error.contains("line 2"), "the position is kept: {error}");
}
