//! Taking over from another replica (`ha.enabled`): the previous leader's firing set, groups and
//! pending notifications replace the new leader's own decisions.

use super::*;

/// Two replicas watching the same cluster, the follower evaluating `lag` seconds after the
/// leader (their ticks never line up).
fn two(lag: i64) -> (AlertEngine, World, AlertEngine, World, i64) {
    let leader = AlertEngine::new(settings("ops"), None);
    let follower = AlertEngine::new(settings("ops"), None);
    (leader, World::new(), follower, World::new(), lag)
}

#[test]
fn a_new_leader_neither_repeats_the_delivered_page_nor_forgets_its_resolve() {
    let (mut a, mut wa, mut b, mut wb, lag) = two(2);
    wa.fail_w2(0);
    wb.fail_w2(0);
    let paged = run(&mut a, &mut wa, 0, 200);
    assert_eq!(paged.len(), 1, "{paged:#?}");
    // The follower decided the same page on its own, at another moment: another id.
    let own = run(&mut b, &mut wb, lag, 200 + lag);
    assert_eq!(own.len(), 1);
    assert_ne!(own[0].id(), paged[0].id());
    // The leader's page was delivered (released), then the leader died.
    a.release_held(&|_| true);
    b.adopt(a.handover(), at(205 + lag));
    assert!(b.pending().is_empty(), "the follower's own page is dropped");
    assert!(
        run(&mut b, &mut wb, 205 + lag, 400 + lag).is_empty(),
        "no second page"
    );
    wb.recover_w2(500);
    let resolved = run(&mut b, &mut wb, 500, 600);
    assert_eq!(resolved.len(), 1, "{resolved:#?}");
    assert_eq!(resolved[0].status, Status::Resolved);
    assert_eq!(resolved[0].group_key, paged[0].group_key);
}

#[test]
fn a_page_in_flight_at_the_failover_is_handed_over_with_its_id() {
    let (mut a, mut wa, mut b, mut wb, lag) = two(3);
    wa.fail_w2(0);
    wb.fail_w2(0);
    let paged = run(&mut a, &mut wa, 0, 200);
    run(&mut b, &mut wb, lag, 200 + lag);
    b.adopt(a.handover(), at(205));
    let pending = b.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id(), paged[0].id(), "the same Idempotency-Key");
    assert!(run(&mut b, &mut wb, 205, 400).is_empty(), "decided once");
}

#[test]
fn a_resolve_the_old_leader_never_saw_comes_from_the_new_one() {
    let (mut a, mut wa, mut b, mut wb, lag) = two(1);
    wa.fail_w2(0);
    wb.fail_w2(0);
    run(&mut a, &mut wa, 0, 200);
    a.release_held(&|_| true);
    run(&mut b, &mut wb, lag, 200 + lag);
    // The node recovers while the follower leads nothing and the leader is already gone.
    wb.recover_w2(210);
    let own = run(&mut b, &mut wb, 210, 300);
    assert!(own.iter().any(|n| n.status == Status::Resolved));
    b.adopt(a.handover(), at(305));
    let resolved = run(&mut b, &mut wb, 305, 400);
    assert_eq!(resolved.len(), 1, "{resolved:#?}");
    assert_eq!(resolved[0].status, Status::Resolved);
}

#[test]
fn a_firing_alert_the_old_leader_did_not_know_waits_its_for_again() {
    let (mut a, mut wa, mut b, mut wb, _) = two(0);
    run(&mut a, &mut wa, 0, 50);
    wb.fail_w2(0);
    run(&mut b, &mut wb, 0, 125);
    b.adopt(a.handover(), at(125));
    let firing = b.alerts(at(125));
    assert!(firing.iter().all(|v| v.state == "pending"), "{firing:#?}");
}

#[test]
fn dropping_the_oldest_group_takes_its_alerts_and_pending_notifications() {
    let (mut a, mut wa, ..) = two(0);
    wa.fail_w2(0);
    run(&mut a, &mut wa, 0, 200);
    let mut handover = a.handover();
    assert!(!handover.is_empty());
    assert_eq!(handover.drop_not_firing(), 0, "everything fires");
    let key = handover.drop_oldest_group().expect("one group");
    assert!(key.contains("ops"), "{key}");
    assert!(handover.is_empty(), "{handover:#?}");
    assert!(handover.drop_oldest_group().is_none());
}
