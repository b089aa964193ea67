use super::*;

fn invalid(text: &str) -> (usize, String, String) {
    match Scenario::from_yaml(text, "t.yaml") {
        Err(ScenarioError::Invalid {
            line,
            field,
            message,
            ..
        }) => (line, field, message),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn syntax(text: &str) -> (usize, String) {
    match Scenario::from_yaml(text, "t.yaml") {
        Err(ScenarioError::Syntax { line, message, .. }) => (line, message),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

const BASE: &str = "name: t\nnodes:\n  - name: w\n    count: 2\ndaemonsets:\n  - name: agent\n";

#[test]
fn the_shipped_scenarios_are_valid() {
    for file in ["demo.yaml", "rolling-failure.yaml", "story2.yaml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(file);
        Scenario::from_file(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn the_format_example_in_the_scenarios_readme_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/README.md");
    let readme = std::fs::read_to_string(path).expect("README");
    let example = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml block");
    let scenario = Scenario::from_yaml(example, "README.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scenario.timeline.len(), 13);
}

#[test]
fn a_misspelt_key_is_reported_with_its_line_and_name() {
    let (line, message) = syntax(&format!(
        "{BASE}timeline:\n  - at: 10s\n    fail_nod: w-1\n"
    ));
    assert_eq!(line, 9);
    assert!(message.contains("unknown field `fail_nod`"), "{message}");
}

#[test]
fn a_bad_duration_is_reported_with_its_line_and_field() {
    let (line, message) = syntax(&format!(
        "{BASE}timeline:\n  - at: 1o s\n    fail_node: w-1\n"
    ));
    assert_eq!(line, 8);
    assert!(
        message.contains("timeline[0].at") && message.contains("invalid duration"),
        "{message}"
    );
}

#[test]
fn an_unknown_node_is_reported_with_its_line_and_field() {
    let (line, field, message) = invalid(&format!(
        "{BASE}timeline:\n  - at: 10s\n    fail_node: w-1\n  - at: 20s\n    recover_node: w-9\n"
    ));
    assert_eq!((line, field.as_str()), (11, "timeline[1].recover_node"));
    assert!(message.contains("w-9"), "{message}");
}

#[test]
fn a_step_with_two_actions_is_refused() {
    let (line, field, message) = invalid(&format!(
        "{BASE}timeline:\n  - at: 10s\n    fail_node: w-1\n    cordon: w-2\n"
    ));
    assert_eq!((line, field.as_str()), (8, "timeline[0]"));
    assert!(message.contains("exactly one action"), "{message}");
}

#[test]
fn steps_out_of_time_order_are_refused() {
    let (_, field, _) = invalid(&format!(
        "{BASE}timeline:\n  - at: 20s\n    fail_node: w-1\n  - at: 10s\n    fail_node: w-2\n"
    ));
    assert_eq!(field, "timeline[1].at");
}

#[test]
fn a_node_added_later_may_be_used_after_it_joins() {
    let text = format!(
        "{BASE}timeline:\n  - at: 10s\n    add_node: {{ name: w-3, pool: w }}\n  - at: 20s\n    fail_node: w-3\n"
    );
    Scenario::from_yaml(&text, "t").expect("valid");
    let (_, field, _) = invalid(&format!(
        "{BASE}timeline:\n  - at: 10s\n    fail_node: w-3\n  - at: 20s\n    add_node: {{ name: w-3 }}\n"
    ));
    assert_eq!(field, "timeline[0].fail_node");
}

#[test]
fn an_expectation_must_name_a_known_daemonset() {
    let (line, field, _) = invalid(&format!(
        "{BASE}expect:\n  - at: 10s\n    cells:\n      - {{ daemonset: kube-system/nope, node: w-1, state: healthy }}\n"
    ));
    assert_eq!((line, field.as_str()), (10, "expect[0].cells[0].daemonset"));
}

#[test]
fn an_unknown_cell_state_is_a_syntax_error_naming_the_field() {
    let (line, message) = syntax(&format!(
        "{BASE}expect:\n  - at: 10s\n    cells:\n      - {{ daemonset: kube-system/agent, node: w-1, state: fine }}\n"
    ));
    assert_eq!(line, 10);
    assert!(message.contains("unknown variant `fine`"), "{message}");
}
