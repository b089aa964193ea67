use super::*;

#[test]
fn a_secret_prints_redacted_in_debug_and_display() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
}

#[test]
fn a_slack_url_shows_only_scheme_and_host() {
    let u = SecretUrl::new("https://hooks.slack.com/services/T0/B0/XXXXSECRET?x=1");
    assert_eq!(u.to_string(), "https://hooks.slack.com/<redacted>");
    assert!(!format!("{u:?}").contains("XXXXSECRET"));
}

#[test]
fn a_url_with_a_port_keeps_the_port() {
    let u = SecretUrl::new("http://127.0.0.1:9093/api");
    assert_eq!(u.to_string(), "http://127.0.0.1:9093/<redacted>");
}

#[test]
fn parse_errors_never_contain_the_url() {
    for bad in [
        "hooks.slack.com/SECRETPATH",
        "ftp://x/SECRETPATH",
        "http://:80/SECRETPATH",
    ] {
        let e = SecretUrl::new(bad).parse().unwrap_err();
        assert!(!e.contains("SECRETPATH"), "{e}");
    }
}
