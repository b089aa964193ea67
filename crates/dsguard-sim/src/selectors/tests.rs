use std::collections::BTreeMap;

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn every_label_operator_selects_what_the_real_server_selects() {
    let daemon = labels(&[("app", "log-agent"), ("pod-template-generation", "2")]);
    let plain = labels(&[("app", "web")]);
    let cases = [
        ("app=log-agent", true, false),
        ("app==log-agent", true, false),
        ("app!=log-agent", false, true),
        ("app in (log-agent, other)", true, false),
        ("app notin (log-agent)", false, true),
        ("pod-template-generation", true, false),
        ("!pod-template-generation", false, true),
        ("pod-template-generation>1", true, false),
        ("pod-template-generation<2", false, false),
        ("app,pod-template-generation", true, false),
        ("", true, true),
    ];
    for (text, on_daemon, on_plain) in cases {
        let selector = LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(selector.matches(&daemon), on_daemon, "{text} on daemon pod");
        assert_eq!(selector.matches(&plain), on_plain, "{text} on plain pod");
    }
}

#[test]
fn an_unclosed_set_gets_the_real_servers_message() {
    let error = LabelSelector::parse("app in (a").unwrap_err();
    // shared/fixtures/real-k8s/api/list-bad-label-selector.txt
    assert_eq!(
        error.0,
        "unable to parse requirement: found '', expected: ',' or ')'"
    );
}

#[test]
fn malformed_label_selectors_are_rejected_with_a_reason() {
    for text in ["app in a", "=x", "app=a b", "app,", "app=(", "-bad=x"] {
        let error = LabelSelector::parse(text);
        assert!(error.is_err(), "{text} parsed as {error:?}");
    }
}

#[test]
fn keywords_are_values_after_an_operator() {
    let selector = LabelSelector::parse("mode=in").expect("parses");
    assert!(selector.matches(&labels(&[("mode", "in")])));
}

#[test]
fn field_selectors_compare_equal_and_not_equal() {
    let selector =
        FieldSelector::parse("spec.nodeName=w-1,metadata.namespace!=kube-system").expect("parses");
    let fields = |name: &str| match name {
        "spec.nodeName" => Some("w-1"),
        "metadata.namespace" => Some("dsg"),
        _ => None,
    };
    assert!(selector.matches(fields));
    let other = FieldSelector::parse("spec.nodeName==w-2").expect("parses");
    assert!(!other.matches(fields));
    assert!(FieldSelector::parse("spec.nodeName").is_err());
}
