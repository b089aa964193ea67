use super::*;
use crate::notify::tests::{firing, resolved};

fn config() -> SlackConfig {
    SlackConfig {
        url: SecretUrl::new("https://hooks.slack.com/services/T/B/SECRET"),
        channel: Some("#ops".into()),
        username: None,
        timeout: None,
    }
}

#[test]
fn the_message_names_node_daemonset_reason_since_and_runbook() {
    let m = message(&firing("g", &["a"]), &config());
    let text = m.to_string();
    for needle in [
        "*Node*\\nworker-2",
        "*DaemonSet*\\nkube-system/fluentd",
        "*Reason*",
        "*Since*",
        "|Runbook>",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    assert_eq!(m["channel"], "#ops");
    assert_eq!(m["blocks"][0]["type"], "header");
}

#[test]
fn a_resolved_message_says_resolved() {
    let m = message(&resolved("g", &["a"]), &config());
    let header = m["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(header.contains("RESOLVED"), "{header}");
    assert!(m.to_string().contains("*Resolved*"));
}

#[test]
fn many_alerts_stay_under_slacks_block_limit() {
    let names: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let m = message(&firing("g", &refs), &config());
    let blocks = m["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 50, "{}", blocks.len());
    assert!(m.to_string().contains("and 30 more"));
}

#[test]
fn mrkdwn_control_characters_are_escaped() {
    assert_eq!(escape("a<b>&c"), "a&lt;b&gt;&amp;c");
}
