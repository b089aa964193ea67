use super::*;
use std::path::PathBuf;

use jiff::SignedDuration;

use crate::base::Duration;
use crate::cluster::PodWatch;
use crate::coverage::{self, CellState};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsguard-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn defaults_need_no_file_and_no_environment() {
    let settings = Settings::load_with_env(None, env(&[])).unwrap();
    assert_eq!(settings.server.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(settings.pods.watch, PodWatch::Daemon);
    assert_eq!(settings.watch.staleness.0, SignedDuration::from_secs(60));
    assert_eq!(
        settings.coverage.to_settings(),
        coverage::Settings::default()
    );
}

#[test]
fn file_then_environment_override_the_defaults() {
    let path = file(
        "layers.yaml",
        "server:\n  listen: 127.0.0.1:9000\npods:\n  watch: all\ncoverage:\n  grace:\n    stranded: 30s\n",
    );
    let settings = Settings::load_with_env(
        Some(&path),
        env(&[
            ("DSGUARD__SERVER__LISTEN", "127.0.0.1:9100"),
            ("DSGUARD__METRICS__FULL_MATRIX", "true"),
            ("OTHER", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(
        settings.server.listen.to_string(),
        "127.0.0.1:9100",
        "the environment wins"
    );
    assert_eq!(settings.pods.watch, PodWatch::All);
    assert!(settings.metrics.full_matrix);
    assert_eq!(
        settings.coverage.to_settings().grace.stranded,
        SignedDuration::from_secs(30)
    );
}

#[test]
fn unknown_key_is_named() {
    let path = file(
        "unknown.yaml",
        "server:\n  listen: 127.0.0.1:9000\n  port: 9\n",
    );
    let err = Settings::load_with_env(Some(&path), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("setting server.port: unknown field `port`"),
        "{err}"
    );
    let err = Settings::load_with_env(None, env(&[("DSGUARD__SERVR__LISTEN", "x")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("setting servr: unknown field `servr`"),
        "{err}"
    );
}

#[test]
fn bad_duration_is_named_with_the_reason() {
    let err = Settings::load_with_env(None, env(&[("DSGUARD__WATCH__STALENESS", "soon")]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "setting watch.staleness: \"soon\" is not a duration (examples: 90s, 10m, 1h30m)"
    );
    let err = Settings::load_with_env(None, env(&[("DSGUARD__COVERAGE__GRACE__MISSING", "-1m")]))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "setting coverage.grace.missing: \"-1m\" is negative");
    let err = Settings::load_with_env(None, env(&[("DSGUARD__WATCH__STALENESS", "0s")]))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "setting watch.staleness: must be more than zero");
}

#[test]
fn bad_values_of_other_types_are_named() {
    let err = Settings::load_with_env(None, env(&[("DSGUARD__SERVER__LISTEN", "localhost")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("setting server.listen: "), "{err}");
    let err = Settings::load_with_env(None, env(&[("DSGUARD__PODS__WATCH", "some")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("setting pods.watch: unknown variant `some`"),
        "{err}"
    );
    let err = Settings::load_with_env(None, env(&[("DSGUARD__LOG__LEVEL", "dsguard=loud")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("setting log.level: "), "{err}");
}

#[test]
fn missing_kubeconfig_is_named() {
    let err = Settings::load_with_env(
        None,
        env(&[("DSGUARD__KUBE__KUBECONFIG", "/nonexistent/kubeconfig")]),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "setting kube.kubeconfig: /nonexistent/kubeconfig is not a readable file"
    );
}

#[test]
fn missing_settings_file_is_an_error() {
    let err = Settings::load_with_env(Some(Path::new("/nonexistent/dsguard.yaml")), env(&[]))
        .unwrap_err();
    assert!(matches!(err, SettingsError::Source(_)), "{err}");
}

#[test]
fn a_route_to_an_unknown_receiver_is_named() {
    let path = file(
        "route.yaml",
        "alerting:\n  route:\n    receiver: ops\n    routes:\n      - { matchers: [\"severity=critical\"], receiver: pager }\n\
         notify:\n  receivers:\n    - { name: ops, webhook: { url: \"http://127.0.0.1:9/hook\" } }\n",
    );
    let err = Settings::load_with_env(Some(&path), env(&[]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "setting alerting.route.routes[0].receiver: no receiver named \"pager\" in notify.receivers (configured: ops)"
    );
}

#[test]
fn a_bad_matcher_is_named() {
    let path = file(
        "matcher.yaml",
        "alerting:\n  route:\n    routes:\n      - { matchers: [\"severity\"] }\n",
    );
    let err = Settings::load_with_env(Some(&path), env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "setting alerting.route.routes[0].matchers[0]: \"severity\" is not a matcher"
        ),
        "{err}"
    );
}

#[test]
fn every_gap_states_grace_override_reaches_the_evaluation() {
    let mut settings = Settings::default();
    for (i, state) in CellState::ALL.into_iter().enumerate() {
        settings
            .coverage
            .grace
            .set(state, Duration(SignedDuration::from_secs(i as i64 + 1)));
    }
    let coverage = settings.coverage.to_settings();
    for (i, state) in CellState::ALL.into_iter().enumerate() {
        let want = if state.is_gap() {
            SignedDuration::from_secs(i as i64 + 1)
        } else {
            SignedDuration::ZERO
        };
        assert_eq!(coverage.grace.for_state(state), want, "{}", state.as_str());
    }
}

#[test]
fn bad_server_and_silence_limits_are_named_before_anything_starts() {
    let cases = [
        (
            "DSGUARD__SERVER__LIMITS__MAX_CONNECTIONS",
            "0",
            "server.limits.max_connections",
        ),
        (
            "DSGUARD__SERVER__LIMITS__HEADER_READ_TIMEOUT",
            "0s",
            "server.limits.header_read_timeout",
        ),
        (
            "DSGUARD__SERVER__AUTH__TOKEN_FILE",
            "/nonexistent/token",
            "server.auth.token_file",
        ),
        (
            "DSGUARD__SERVER__AUTH__PROTECT_READS",
            "true",
            "server.auth.protect_reads",
        ),
        (
            "DSGUARD__ALERTING__SILENCES__MAX_ACTIVE",
            "0",
            "alerting.silences.max_active",
        ),
    ];
    for (variable, value, key) in cases {
        match Settings::load_with_env(None, env(&[(variable, value)])) {
            Err(SettingsError::Invalid { key: named, .. }) => assert_eq!(named, key),
            other => panic!("{variable}={value}: {other:?}"),
        }
    }
}

mod notify;
