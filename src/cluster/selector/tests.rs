use super::*;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn req(key: &str, op: &str, values: &[&str]) -> LabelRequirement {
    LabelRequirement {
        key: key.to_owned(),
        operator: op.to_owned(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

#[test]
fn empty_selector_matches_everything() {
    assert!(LabelSelector::default().matches(&labels(&[("a", "b")])));
    assert!(LabelSelector::default().matches(&Labels::new()));
}

#[test]
fn match_labels_and_expressions_must_all_hold() {
    let selector = LabelSelector {
        match_labels: labels(&[("app", "agent")]),
        match_expressions: vec![
            req("tier", "In", &["node", "infra"]),
            req("old", "DoesNotExist", &[]),
        ],
    };
    assert!(selector.matches(&labels(&[("app", "agent"), ("tier", "node")])));
    assert!(!selector.matches(&labels(&[("app", "agent"), ("tier", "web")])));
    assert!(!selector.matches(&labels(&[("app", "agent"), ("tier", "node"), ("old", "")])));
    assert!(!selector.matches(&labels(&[("tier", "node")])));
}

#[test]
fn invalid_requirements_match_nothing() {
    let empty_in = LabelSelector {
        match_expressions: vec![req("a", "In", &[])],
        ..Default::default()
    };
    assert!(!empty_in.matches(&labels(&[("a", "")])));
    let exists_with_values = LabelSelector {
        match_expressions: vec![req("a", "Exists", &["x"])],
        ..Default::default()
    };
    assert!(!exists_with_values.matches(&labels(&[("a", "x")])));
    let unknown = LabelSelector {
        match_expressions: vec![req("a", "Gt", &["1"])],
        ..Default::default()
    };
    assert!(!unknown.matches(&labels(&[("a", "2")])));
}

#[test]
fn not_in_matches_an_absent_label() {
    let selector = LabelSelector {
        match_expressions: vec![req("zone", "NotIn", &["a"])],
        ..Default::default()
    };
    assert!(selector.matches(&Labels::new()));
    assert!(selector.matches(&labels(&[("zone", "b")])));
    assert!(!selector.matches(&labels(&[("zone", "a")])));
}

#[test]
fn pods_with_the_same_labels_share_one_map_and_unused_maps_are_dropped() {
    use std::sync::Arc;
    let labels = |app: &str, i: usize| -> Arc<Labels> {
        Arc::new(
            [
                ("app".to_owned(), app.to_owned()),
                ("i".to_owned(), i.to_string()),
            ]
            .into_iter()
            .collect(),
        )
    };
    let mut sets = LabelSets::default();
    let first = sets.share(labels("agent", 0));
    let second = sets.share(labels("agent", 0));
    assert!(Arc::ptr_eq(&first, &second), "one map for both");
    assert_eq!(sets.share(labels("other", 0))["app"], "other");
    assert_eq!(sets.len(), 2);
    // Many maps that nobody keeps: the set is pruned instead of growing with them.
    for i in 1..10_000 {
        drop(sets.share(labels("unique", i)));
    }
    assert!(sets.len() < 1_000, "pruned: {}", sets.len());
    assert!(
        Arc::ptr_eq(&first, &sets.share(labels("agent", 0))),
        "a map in use is kept"
    );
}
