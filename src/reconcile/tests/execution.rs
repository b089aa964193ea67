use super::*;

#[test]
fn a_missing_pod_younger_than_the_stall_bound_is_not_a_stalled_controller() {
    let ds = daemonset("ns", "agent").with_status(ControllerStatus {
        desired: 1,
        current: 1,
        ..ControllerStatus::default()
    });
    let young = node("w-1").created_at(at(-60)).health_changed_at(at(-60));
    let model = model(&[ds], &[young], &[], at(0));
    assert_eq!(plan_at(&model, at(0)).actions, vec![]);
}

fn stuck_on_deleted_node(ds: &DaemonSetInfo, node_annotation: Option<&str>) -> Model {
    let mut dead = old_node("w-1").unreachable().tainted_with(
        TAINT_OUT_OF_SERVICE,
        "nodeshutdown",
        TaintEffect::NoExecute,
    );
    if let Some(value) = node_annotation {
        dead = dead.annotated(ANNOTATION_RECONCILE, value);
    }
    model(
        std::slice::from_ref(ds),
        &[dead],
        &[terminating(ds, "w-1", -300)],
        at(0),
    )
}

#[test]
fn a_daemonset_that_opted_out_is_planned_but_not_executable() {
    let ds = daemonset("ns", "agent");
    let model = stuck_on_deleted_node(&ds, None);
    let annotations = [(
        ds.key.clone(),
        [(ANNOTATION_RECONCILE.to_owned(), "false".to_owned())].into(),
    )]
    .into();
    let plan = plan(&model, &annotations, at(0), &ReconcileSettings::default());
    assert_eq!(kinds(&plan), vec![(ActionKind::DeleteStuckPod, false)]);
    assert!(
        plan.actions[0]
            .opted_out
            .as_deref()
            .unwrap()
            .contains("daemonset ns/agent")
    );
    assert!(plan.annotation_errors.is_empty());
}

#[test]
fn a_bad_opt_out_value_is_reported_and_treated_as_opt_out() {
    let ds = daemonset("ns", "agent");
    let model = stuck_on_deleted_node(&ds, Some("maybe"));
    let plan = plan_at(&model, at(0));
    assert_eq!(kinds(&plan), vec![(ActionKind::DeleteStuckPod, false)]);
    assert!(
        plan.actions[0]
            .opted_out
            .as_deref()
            .unwrap()
            .contains("\"maybe\"")
    );
    assert_eq!(
        plan.annotation_errors.len(),
        1,
        "{:?}",
        plan.annotation_errors
    );
    assert!(plan.annotation_errors[0].contains("node w-1"));
}

#[test]
fn advice_for_a_cell_names_the_action_and_the_command() {
    let ds = daemonset("kube-system", "agent");
    let model = stuck_on_deleted_node(&ds, None);
    let plan = plan_at(&model, at(0));
    let advice = plan.advice(&ds.key, "w-1").unwrap();
    assert!(advice.starts_with("delete_stuck_pod: "), "{advice}");
    assert!(advice.contains("--grace-period=0 --force"), "{advice}");
    assert_eq!(plan.advice(&ds.key, "w-2"), None);
}

/// 200 pods stuck on 200 deleted nodes.
fn many_stuck(count: usize) -> (Model, Plan) {
    let ds = daemonset("kube-system", "agent");
    let names: Vec<String> = (0..count).map(|i| format!("w-{i}")).collect();
    let nodes: Vec<NodeInfo> = names.iter().map(|n| old_node(n).unreachable()).collect();
    let pods: Vec<PodInfo> = names.iter().map(|n| terminating(&ds, n, -300)).collect();
    let mut model = model(&[ds], &nodes, &pods, at(0));
    for name in &names {
        delete_node(&mut model, name, at(0));
    }
    let plan = plan_at(&model, at(0));
    (model, plan)
}

fn executions(decisions: &[Decision]) -> usize {
    decisions
        .iter()
        .filter(|d| matches!(d, Decision::Execute(_)))
        .count()
}

fn enforce(max_per_minute: u32, max_per_run: u32) -> ReconcileSettings {
    ReconcileSettings {
        mode: Mode::Enforce,
        max_per_minute,
        max_per_run,
        ..ReconcileSettings::default()
    }
}

#[test]
fn the_rate_limit_holds_with_200_stuck_pods() {
    let (_, plan) = many_stuck(200);
    assert_eq!(plan.executable().count(), 200);
    let mut decider = Decider::new(&enforce(10, 4));
    let mut per_run = Vec::new();
    let mut done: Vec<(i64, usize)> = Vec::new();
    // A run every 10 s for 10 minutes; executed actions leave the plan.
    let mut remaining = plan.clone();
    for run in 0..60 {
        let now = at(run * 10);
        let decisions = decider.decide(&remaining, false, now);
        let executed: Vec<String> = decisions
            .iter()
            .filter_map(|d| match d {
                Decision::Execute(a) => Some(a.id()),
                _ => None,
            })
            .collect();
        per_run.push(executed.len());
        done.push((run * 10, executed.len()));
        remaining.actions.retain(|a| !executed.contains(&a.id()));
    }
    assert!(per_run.iter().all(|n| *n <= 4), "max_per_run: {per_run:?}");
    for (start, _) in &done {
        let in_minute: usize = done
            .iter()
            .filter(|(t, _)| t >= start && *t < start + 60)
            .map(|(_, n)| n)
            .sum();
        assert!(in_minute <= 10, "max_per_minute from {start}s: {done:?}");
    }
    assert_eq!(
        per_run.iter().sum::<usize>(),
        100,
        "10 a minute for 10 minutes"
    );
}

#[test]
fn nothing_is_executed_while_blind() {
    let (_, plan) = many_stuck(200);
    let mut decider = Decider::new(&enforce(600, 200));
    let decisions = decider.decide(&plan, true, at(0));
    assert_eq!(executions(&decisions), 0);
    assert_eq!(decisions.len(), 200, "each skipped action is reported once");
    assert!(
        decisions
            .iter()
            .all(|d| matches!(d, Decision::Report(_, Outcome::SkippedBlind)))
    );
    assert!(
        decider.decide(&plan, true, at(10)).is_empty(),
        "not reported again"
    );
    assert_eq!(executions(&decider.decide(&plan, false, at(20))), 200);
}

#[test]
fn dry_run_reports_each_decision_once_and_executes_nothing() {
    let (_, plan) = many_stuck(3);
    let mut decider = Decider::new(&ReconcileSettings::default());
    let first = decider.decide(&plan, false, at(0));
    assert_eq!(first.len(), 3);
    assert!(
        first
            .iter()
            .all(|d| matches!(d, Decision::Report(_, Outcome::DryRun)))
    );
    assert!(decider.decide(&plan, false, at(10)).is_empty());
    let mut off = Decider::new(&ReconcileSettings {
        mode: Mode::Off,
        ..ReconcileSettings::default()
    });
    assert!(off.decide(&plan, false, at(0)).is_empty());
}

#[test]
fn opted_out_actions_are_reported_and_never_executed() {
    let ds = daemonset("ns", "agent");
    let model = stuck_on_deleted_node(&ds, Some("false"));
    let plan = plan_at(&model, at(0));
    let mut decider = Decider::new(&enforce(10, 10));
    let decisions = decider.decide(&plan, false, at(0));
    assert!(matches!(
        decisions.as_slice(),
        [Decision::Report(_, Outcome::OptedOut)]
    ));
}

#[test]
fn a_failed_action_is_retried_with_doubling_backoff() {
    let (_, plan) = many_stuck(1);
    let action = plan.actions[0].clone();
    let mut decider = Decider::new(&enforce(600, 10));
    assert_eq!(executions(&decider.decide(&plan, false, at(0))), 1);
    assert_eq!(
        decider.record(&action, Outcome::Failed, at(0)),
        Some(at(10))
    );
    assert_eq!(executions(&decider.decide(&plan, false, at(5))), 0);
    assert_eq!(executions(&decider.decide(&plan, false, at(10))), 1);
    assert_eq!(
        decider.record(&action, Outcome::Failed, at(10)),
        Some(at(30))
    );
    for _ in 0..10 {
        decider.record(&action, Outcome::Failed, at(30));
    }
    assert_eq!(
        decider.record(&action, Outcome::Failed, at(30)),
        Some(at(330)),
        "capped at retry_max"
    );
    decider.record(&action, Outcome::Executed, at(40));
    assert_eq!(executions(&decider.decide(&plan, false, at(41))), 1);
}

#[test]
fn settings_name_the_offending_key() {
    let error = |settings: ReconcileSettings| match settings.validate() {
        Err(crate::base::SettingsError::Invalid { key, .. }) => key,
        other => panic!("{other:?}"),
    };
    assert!(ReconcileSettings::default().validate().is_ok());
    let zero = ReconcileSettings {
        max_per_minute: 0,
        ..ReconcileSettings::default()
    };
    assert_eq!(error(zero), "reconcile.max_per_minute");
    let early = ReconcileSettings {
        orphan_after: crate::base::Duration(SignedDuration::from_secs(30)),
        ..ReconcileSettings::default()
    };
    assert_eq!(error(early), "reconcile.orphan_after");
    let parsed: ReconcileSettings =
        serde_json::from_value(serde_json::json!({"mode": "enforce", "max_per_minute": 3}))
            .unwrap();
    assert_eq!(
        (parsed.mode, parsed.max_per_minute, parsed.max_per_run),
        (Mode::Enforce, 3, 5)
    );
    assert!(
        serde_json::from_value::<ReconcileSettings>(serde_json::json!({"mode": "yes"})).is_err()
    );
}
