use super::*;

#[test]
fn placement_follows_the_controller_rules() {
    let cases = cases();
    assert!(cases.len() >= 40, "at least 40 cases");
    let mut failures = Vec::new();
    for case in &cases {
        let placement = CompiledPlacement::compile(&case.ds.placement).evaluate(&case.node);
        let got = (
            placement.should_run,
            placement.should_continue_running,
            placement.exclusion.as_ref().map(Exclusion::code),
        );
        if got != case.want {
            failures.push(format!("{}: got {got:?}, want {:?}", case.rule, case.want));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn unreachable_node_names_the_unreachable_taint_and_would_run_when_ready() {
    let placement = CompiledPlacement::compile(&ds().placement).evaluate(&node("n1").unreachable());
    assert_eq!(
        placement.exclusion,
        Some(Exclusion::Taint {
            key: TAINT_UNREACHABLE.to_owned(),
            effect: NoSchedule
        })
    );
    assert!(placement.runs_when_node_ready);
}

#[test]
fn node_outside_the_daemonset_would_not_run_when_ready() {
    let selected = ds().node_selector("zone", "a");
    let on_failed_node =
        CompiledPlacement::compile(&selected.placement).evaluate(&node("n1").unreachable());
    assert!(!on_failed_node.runs_when_node_ready);
    let tainted = CompiledPlacement::compile(&ds().placement)
        .evaluate(&node("n1").unreachable().tainted("gpu", NoSchedule));
    assert!(
        !tainted.runs_when_node_ready,
        "another untolerated taint keeps it off a healthy node too"
    );
}

#[test]
fn the_noexecute_taint_is_named_when_it_evicts() {
    let placement = CompiledPlacement::compile(&ds().placement)
        .evaluate(&node("n1").tainted("a", NoSchedule).tainted("b", NoExecute));
    assert_eq!(
        placement.exclusion.and_then(|e| e.detail()),
        Some("b:NoExecute".to_owned())
    );
}
