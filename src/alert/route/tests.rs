use super::*;

fn l(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn matchers_follow_alertmanager_semantics() {
    let labels = l(&[("severity", "critical"), ("namespace", "kube-system")]);
    assert!(
        Matcher::parse("severity=critical")
            .unwrap()
            .matches(&labels)
    );
    assert!(
        Matcher::parse("severity!=warning")
            .unwrap()
            .matches(&labels)
    );
    assert!(
        Matcher::parse("namespace=~kube-.*")
            .unwrap()
            .matches(&labels)
    );
    assert!(
        !Matcher::parse("namespace=~kube").unwrap().matches(&labels),
        "anchored"
    );
    assert!(
        Matcher::parse("node!~.+").unwrap().matches(&labels),
        "absent is empty"
    );
    assert!(
        Matcher::parse("severity = \"critical\"")
            .unwrap()
            .matches(&labels)
    );
}

#[test]
fn zero_intervals_are_refused_naming_their_key() {
    let route = |value: serde_json::Value| -> Route { serde_json::from_value(value).unwrap() };
    let e = route(serde_json::json!({"group_interval": "0s"}))
        .validate("alerting.route")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "setting alerting.route.group_interval: must be more than zero"
    );
    let e = route(serde_json::json!({"routes": [{}, {"repeat_interval": "0s"}]}))
        .validate("alerting.route")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("alerting.route.routes[1].repeat_interval"),
        "{e}"
    );
    assert!(
        route(serde_json::json!({"group_wait": "0s"}))
            .validate("alerting.route")
            .is_ok(),
        "a zero group_wait notifies at once"
    );
}

#[test]
fn bad_matchers_say_why() {
    assert!(
        Matcher::parse("severity")
            .unwrap_err()
            .contains("is not a matcher")
    );
    assert!(
        Matcher::parse("sev erity=x")
            .unwrap_err()
            .contains("is not a label name")
    );
    assert!(Matcher::parse("node=~(").unwrap_err().contains("bad regex"));
}

#[test]
fn deepest_matching_route_wins_and_continue_goes_on() {
    let route: Route = serde_json::from_value(serde_json::json!({
        "receiver": "default",
        "group_by": ["alertname"],
        "routes": [
            {"matchers": ["severity=critical"], "receiver": "pager", "continue": true, "group_wait": "0s"},
            {"matchers": ["namespace=~kube-.*"], "receiver": "platform"},
            {"matchers": ["namespace=~.*"], "receiver": "never"}
        ]
    }))
    .unwrap();
    let defaults = Destination {
        route_id: String::new(),
        receiver: String::new(),
        group_by: vec![],
        group_wait: jiff::SignedDuration::from_secs(30),
        group_interval: jiff::SignedDuration::from_mins(5),
        repeat_interval: jiff::SignedDuration::from_hours(4),
    };
    let to = route.destinations(
        &l(&[("severity", "critical"), ("namespace", "kube-system")]),
        &defaults,
    );
    let names: Vec<_> = to
        .iter()
        .map(|d| (d.route_id.as_str(), d.receiver.as_str()))
        .collect();
    assert_eq!(names, vec![("0.0", "pager"), ("0.1", "platform")]);
    assert_eq!(to[0].group_wait, jiff::SignedDuration::ZERO);
    assert_eq!(
        to[1].group_wait,
        jiff::SignedDuration::from_secs(30),
        "inherited"
    );
    let to = route.destinations(
        &l(&[("severity", "warning"), ("namespace", "apps")]),
        &defaults,
    );
    assert_eq!(to[0].receiver, "never");
    let to = route.destinations(&l(&[("severity", "warning")]), &defaults);
    assert_eq!(
        (to[0].route_id.as_str(), to[0].receiver.as_str()),
        ("0.2", "never"),
        "an absent label matches .*"
    );
}
