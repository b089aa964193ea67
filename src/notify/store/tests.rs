//! The outbox and the log: persistence across a reopen, and the dedup rule.

use std::path::PathBuf;

use super::*;
use crate::notify::tests::{alert, firing, resolved};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dsguard-store-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn now() -> Timestamp {
    "2024-05-01T12:01:00Z".parse().unwrap()
}

#[test]
fn queued_notifications_survive_a_reopen_in_order() {
    let dir = temp_dir("reopen");
    let (mut store, replay) = Store::open(Some(&dir)).unwrap();
    assert!(replay.is_empty());
    let (a, ok) = store.enqueue(firing("g1", &["a"]), now());
    ok.unwrap();
    let (b, ok) = store.enqueue(firing("g2", &["b"]), now());
    ok.unwrap();
    store
        .finish(
            &a,
            LogUpdate::Set(Delivered::of(&a.notification, now(), false)),
        )
        .unwrap();
    drop(store);
    let (store, replay) = Store::open(Some(&dir)).unwrap();
    assert_eq!(
        replay,
        vec![b.clone()],
        "only the unfinished one comes back"
    );
    assert!(store.last("ops", "g1").is_some(), "the log survives");
    let (mut store, _) = Store::open(Some(&dir)).unwrap();
    let (c, _) = store.enqueue(firing("g3", &["c"]), now());
    assert!(c.id > b.id, "ids keep increasing after a reopen");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_notification_is_known_from_its_outbox_write_until_long_after_it_finished_also_after_a_reopen()
{
    let dir = temp_dir("knows");
    let (mut store, _) = Store::open(Some(&dir)).unwrap();
    let (a, _) = store.enqueue(firing("g1", &["a"]), now());
    let (b, _) = store.enqueue(firing("g2", &["b"]), now());
    let id = |q: &Queued| q.notification.id();
    assert!(store.knows(&id(&a)) && store.knows(&id(&b)));
    assert!(!store.knows(&firing("g3", &["c"]).id()));
    store.finish(&a, LogUpdate::Keep).unwrap();
    assert!(store.knows(&id(&a)), "finished, still known");
    drop(store);
    let (mut store, replay) = Store::open(Some(&dir)).unwrap();
    assert_eq!(replay, vec![b.clone()]);
    assert!(store.knows(&id(&a)), "the finished id survives a reopen");
    assert!(store.knows(&id(&b)), "so does the one in the outbox");
    for i in 0..FINISHED_IDS {
        let (q, _) = store.enqueue(firing(&format!("other-{i}"), &["x"]), now());
        store.finish(&q, LogUpdate::Keep).unwrap();
    }
    assert!(
        !store.knows(&id(&a)),
        "only the last {FINISHED_IDS} are kept"
    );
    assert!(store.knows(&id(&b)), "the outbox is always known");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_torn_temporary_file_and_a_corrupt_outbox_file_are_set_aside() {
    let dir = temp_dir("corrupt");
    let (mut store, _) = Store::open(Some(&dir)).unwrap();
    let (a, _) = store.enqueue(firing("g1", &["a"]), now());
    fs::write(dir.join("outbox/00000000000000000099.json"), b"{\"id\":").unwrap();
    fs::write(dir.join("outbox/00000000000000000100.tmp"), b"{").unwrap();
    let (_, replay) = Store::open(Some(&dir)).unwrap();
    assert_eq!(replay, vec![a]);
    assert!(dir.join("outbox/00000000000000000099.bad").exists());
    assert!(!dir.join("outbox/00000000000000000100.tmp").exists());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn without_a_directory_nothing_is_written_and_nothing_comes_back() {
    let (mut store, replay) = Store::open(None).unwrap();
    assert!(replay.is_empty() && !store.is_durable());
    let (a, ok) = store.enqueue(firing("g", &["a"]), now());
    ok.unwrap();
    store
        .finish(
            &a,
            LogUpdate::Set(Delivered::of(&a.notification, now(), false)),
        )
        .unwrap();
    assert!(
        store.last("ops", "g").is_some(),
        "the log still works in memory"
    );
}

#[test]
fn the_same_firing_notification_is_a_duplicate_unless_it_is_a_repeat() {
    let n = firing("g", &["b", "a"]);
    let last = Delivered::of(&firing("g", &["a", "b"]), now(), false);
    assert_eq!(
        decide(&n, Some(&last), true),
        Decision::Duplicate,
        "order does not matter"
    );
    let mut repeat = n.clone();
    repeat.repeat = true;
    assert_eq!(decide(&repeat, Some(&last), true), Decision::Send);
    assert_eq!(
        decide(&firing("g", &["a"]), Some(&last), true),
        Decision::Send
    );
    assert_eq!(decide(&n, None, true), Decision::Send);
}

#[test]
fn a_firing_notification_whose_alert_resolved_is_not_a_duplicate() {
    let last = Delivered::of(&firing("g", &["a", "b"]), now(), false);
    let mut n = firing("g", &["a"]);
    n.alerts.push(alert("b", Status::Resolved));
    assert_eq!(decide(&n, Some(&last), true), Decision::Send);
}

#[test]
fn a_resolve_goes_out_only_after_a_delivered_firing_and_when_wanted() {
    let last = Delivered::of(&firing("g", &["a"]), now(), false);
    let r = resolved("g", &["a"]);
    assert_eq!(decide(&r, Some(&last), true), Decision::Send);
    assert_eq!(decide(&r, None, true), Decision::ResolvedWithoutFiring);
    assert_eq!(decide(&r, Some(&last), false), Decision::ResolvedNotWanted);
}

#[test]
fn test_notifications_are_always_sent() {
    let mut n = firing("g", &["a"]);
    n.test = true;
    let last = Delivered::of(&n, now(), false);
    assert_eq!(decide(&n, Some(&last), true), Decision::Send);
}

#[test]
fn firing_alerts_are_kept_for_resending_only_when_asked() {
    let dir = temp_dir("resend");
    let (mut store, _) = Store::open(Some(&dir)).unwrap();
    let (a, _) = store.enqueue(firing("g1", &["a", "b"]), now());
    store
        .finish(
            &a,
            LogUpdate::Set(Delivered::of(&a.notification, now(), true)),
        )
        .unwrap();
    let (mut store, _) = Store::open(Some(&dir)).unwrap();
    assert_eq!(store.firing_alerts("ops").len(), 2);
    let (r, _) = store.enqueue(resolved("g1", &["a", "b"]), now());
    store.finish(&r, LogUpdate::Forget).unwrap();
    assert!(store.firing_alerts("ops").is_empty());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn the_handover_carries_the_log_and_what_is_not_finished_and_a_new_leader_takes_the_log() {
    let (mut old, _) = Store::open(None).unwrap();
    let (paged, _) = old.enqueue(firing("g1", &["a"]), now());
    old.finish(
        &paged,
        LogUpdate::Set(Delivered::of(&paged.notification, now(), false)),
    )
    .unwrap();
    let (in_flight, _) = old.enqueue(firing("g2", &["b"]), now());
    let decided = firing("g3", &["c"]);
    let (log, unfinished) = old.handover(vec![paged.notification.clone(), decided.clone()]);
    let ids: Vec<String> = unfinished.iter().map(Notification::id).collect();
    assert!(ids.contains(&in_flight.notification.id()));
    assert!(ids.contains(&decided.id()));
    assert!(
        !ids.contains(&paged.notification.id()),
        "delivered: not again"
    );
    // The new leader's own outbox holds a page from an earlier term the old leader finished.
    let (mut new, _) = Store::open(None).unwrap();
    let (stale, _) = new.enqueue(firing("g4", &["d"]), now());
    let in_flight_ids: HashSet<String> = ids.into_iter().collect();
    new.adopt(log, &in_flight_ids);
    assert!(new.last("ops", "g1").is_some(), "the log followed");
    assert!(new.is_superseded(&stale.notification.id()));
    let resolve = resolved("g1", &["a"]);
    assert_eq!(
        decide(&resolve, new.last("ops", "g1"), true),
        Decision::Send,
        "the resolve of the old leader's page is sent"
    );
    new.finish(&stale, LogUpdate::Keep).unwrap();
    assert!(!new.is_superseded(&stale.notification.id()));
}
