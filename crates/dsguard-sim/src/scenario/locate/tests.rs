use super::*;

const TEXT: &str = "name: x\nnodes:\n  - name: w\n    count: 2\ntimeline:\n- at: 10s\n  fail_node: w-1\n- at: 20s\n  fail_node: w-9\nexpect:\n  - at: 30s\n    cells:\n      - { daemonset: a/b, node: w-1, state: healthy }\n      - { daemonset: a/b, node: w-7, state: healthy }\n";

#[test]
fn fields_are_found_on_their_own_line() {
    assert_eq!(line_of(TEXT, "timeline[1].fail_node"), 9);
    assert_eq!(line_of(TEXT, "timeline[0].at"), 6);
    assert_eq!(line_of(TEXT, "nodes[0].count"), 4);
    assert_eq!(line_of(TEXT, "expect[0].cells[1].node"), 14);
}

#[test]
fn a_missing_field_points_at_its_closest_ancestor() {
    assert_eq!(line_of(TEXT, "timeline[1]"), 8);
    assert_eq!(line_of(TEXT, "timeline[7].at"), 5);
}
