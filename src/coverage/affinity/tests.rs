use super::*;

#[test]
fn qualified_names_follow_the_kubernetes_rules() {
    assert!(is_qualified_name("zone"));
    assert!(is_qualified_name("topology.kubernetes.io/zone"));
    assert!(is_qualified_name("node-role.kubernetes.io/control-plane"));
    assert!(!is_qualified_name(""));
    assert!(!is_qualified_name("/zone"));
    assert!(!is_qualified_name("Example.COM/zone"));
    assert!(!is_qualified_name("-zone"));
    assert!(!is_qualified_name(&"a".repeat(64)));
    assert!(is_label_value(""));
    assert!(!is_label_value("a b"));
}
