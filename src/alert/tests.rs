use jiff::SignedDuration;

use super::*;
use crate::cluster::build::{daemon_pod, daemonset, node};
use crate::cluster::{DaemonSetInfo, NodeInfo, Object, PodInfo, Resource, WatchEvent};

fn at(seconds: i64) -> Timestamp {
    "2026-11-22T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

fn settings(receiver: &str) -> AlertSettings {
    AlertSettings {
        runbook_base_url: "https://runbooks.example/dsguard".to_owned(),
        external_url: "http://dsguard.example:8080".to_owned(),
        route: serde_json::from_value(serde_json::json!({"receiver": receiver, "group_wait": "10s", "group_interval": "1m", "repeat_interval": "1h"})).unwrap(),
        ..AlertSettings::default()
    }
}

struct World {
    model: Model,
    agent: DaemonSetInfo,
    exporter: DaemonSetInfo,
}

impl World {
    /// Three old workers with two DaemonSets, all healthy, synced.
    fn new() -> Self {
        let mut model = Model::new(
            crate::coverage::Settings::default(),
            SignedDuration::from_secs(60),
            at(0),
        );
        for resource in Resource::ALL {
            model.handle(WatchEvent::Synced(resource), at(0));
        }
        let world = Self {
            model,
            agent: daemonset("kube-system", "agent"),
            exporter: daemonset("monitoring", "exporter"),
        };
        let mut world = world;
        for ds in [world.agent.clone(), world.exporter.clone()] {
            world.apply(Object::DaemonSet(ds), 0);
        }
        for n in ["w-1", "w-2", "w-3"] {
            world.apply(Object::Node(worker(n)), 0);
            for ds in [world.agent.clone(), world.exporter.clone()] {
                world.apply(Object::Pod(daemon_pod(&ds, n)), 0);
            }
        }
        world
    }

    fn apply(&mut self, object: Object, seconds: i64) {
        self.model.handle(WatchEvent::Applied(object), at(seconds));
    }

    fn pod(&mut self, pod: PodInfo, seconds: i64) {
        self.apply(Object::Pod(pod), seconds);
    }

    /// w-2 stops heartbeating: Unknown, tainted, its pods not ready.
    fn fail_w2(&mut self, seconds: i64) {
        self.apply(
            Object::Node(worker("w-2").unreachable().health_changed_at(at(seconds))),
            seconds,
        );
        for ds in [self.agent.clone(), self.exporter.clone()] {
            self.pod(daemon_pod(&ds, "w-2").not_ready(), seconds);
        }
    }

    fn recover_w2(&mut self, seconds: i64) {
        self.apply(
            Object::Node(worker("w-2").health_changed_at(at(seconds))),
            seconds,
        );
        for ds in [self.agent.clone(), self.exporter.clone()] {
            self.pod(daemon_pod(&ds, "w-2").ready_since(at(seconds)), seconds);
        }
    }
}

fn worker(name: &str) -> NodeInfo {
    node(name).created_at(at(-86_400))
}

/// Evaluates every 5 s from `from` to `to` (inclusive), collecting notifications.
fn run(engine: &mut AlertEngine, world: &mut World, from: i64, to: i64) -> Vec<Notification> {
    let mut out = Vec::new();
    let mut t = from;
    while t <= to {
        world.model.tick(at(t));
        out.extend(engine.evaluate(&world.model, at(t)));
        t += 5;
    }
    out
}

fn names(notification: &Notification) -> Vec<String> {
    notification
        .alerts
        .iter()
        .map(|a| a.labels["alertname"].clone())
        .collect()
}

#[test]
fn a_failed_node_is_one_stranded_notification_naming_every_lost_pod_and_no_per_pod_page() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), None);
    assert!(
        run(&mut engine, &mut world, 0, 60).is_empty(),
        "a healthy cluster is quiet"
    );
    world.fail_w2(100);
    let sent = run(&mut engine, &mut world, 100, 400);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let n = &sent[0];
    assert_eq!((n.receiver.as_str(), n.status), ("ops", Status::Firing));
    assert_eq!(names(n), vec!["DaemonSetPodsStranded"]);
    let alert = &n.alerts[0];
    assert_eq!(alert.labels["node"], "w-2");
    assert_eq!(alert.labels["severity"], "critical");
    let description = &alert.annotations["description"];
    assert!(
        description.contains("kube-system/agent (agent-w-2)")
            && description.contains("monitoring/exporter (exporter-w-2)"),
        "{description}"
    );
    assert!(
        description.contains("does not move DaemonSet pods"),
        "{description}"
    );
    assert_eq!(
        alert.annotations["runbook_url"],
        "https://runbooks.example/dsguard/DaemonSetPodsStranded.md"
    );
    assert_eq!(
        alert.generator_url,
        "http://dsguard.example:8080/api/v1/nodes/w-2"
    );
    // Actionable after the 2-minute stranded grace (at 220 s), sent after the 10 s group wait.
    assert_eq!(n.created_at, at(230));
    assert!(!n.repeat);
}

#[test]
fn recovery_sends_the_resolve_and_the_repeat_interval_is_respected() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), None);
    world.fail_w2(0);
    // First sent at 130 s (actionable at 120 s, plus the group wait).
    let sent = run(&mut engine, &mut world, 0, 130 + 3600 - 5);
    assert_eq!(
        sent.len(),
        1,
        "nothing new before the repeat interval: {sent:#?}"
    );
    let sent = run(&mut engine, &mut world, 130 + 3600, 130 + 3600 + 60);
    assert_eq!(sent.len(), 1, "one repeat after an hour");
    assert!(sent[0].repeat);
    assert_eq!(sent[0].created_at, at(130 + 3600));
    world.recover_w2(4000);
    let sent = run(&mut engine, &mut world, 4000, 4100);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, Status::Resolved);
    assert_eq!(sent[0].alerts[0].ends_at, Some(at(4000)));
    assert!(
        run(&mut engine, &mut world, 4105, 8000).is_empty(),
        "a resolved group is forgotten"
    );
}

#[test]
fn an_alert_that_resolves_before_it_was_notified_is_never_sent() {
    let mut world = World::new();
    let mut settings = settings("ops");
    settings.route.group_wait = Some(crate::base::Duration(SignedDuration::from_mins(10)));
    let mut engine = AlertEngine::new(settings, None);
    world.fail_w2(0);
    assert!(
        run(&mut engine, &mut world, 0, 200).is_empty(),
        "waiting for the group"
    );
    world.recover_w2(205);
    assert!(run(&mut engine, &mut world, 205, 2000).is_empty());
}

#[test]
fn new_node_whose_pod_cannot_start_during_an_incident_is_unreplaced_with_the_schedulers_reason() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), None);
    world.fail_w2(0);
    world.apply(
        Object::Node(node("w-9").created_at(at(30)).health_changed_at(at(35))),
        35,
    );
    world.pod(
        daemon_pod(&world.agent.clone(), "w-9")
            .created_at(at(36))
            .unschedulable("0/4 nodes are available: 1 Insufficient cpu."),
        36,
    );
    world.pod(
        daemon_pod(&world.exporter.clone(), "w-9")
            .created_at(at(36))
            .ready_since(at(40)),
        40,
    );
    let sent = run(&mut engine, &mut world, 40, 400);
    let unreplaced: Vec<&notification::Alert> = sent
        .iter()
        .flat_map(|n| &n.alerts)
        .filter(|a| a.labels["alertname"] == "DaemonSetPodUnreplaced")
        .collect();
    assert_eq!(unreplaced.len(), 1, "{sent:#?}");
    let alert = unreplaced[0];
    assert_eq!(
        (
            alert.labels["node"].as_str(),
            alert.labels["daemonset"].as_str(),
            alert.labels["reason"].as_str()
        ),
        ("w-9", "agent", "unschedulable")
    );
    assert!(alert.annotations["description"].contains("Insufficient cpu"));
    assert_eq!(alert.labels["severity"], "critical");
}

#[test]
fn cordoned_and_maintenance_nodes_do_not_page() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), None);
    world.apply(Object::Node(worker("w-1").cordoned()), 0);
    world.apply(
        Object::Node(worker("w-3").annotated("dsguard.io/maintenance", "true")),
        0,
    );
    for n in ["w-1", "w-3"] {
        world.model.handle(
            WatchEvent::Deleted(crate::cluster::ObjectRef::Pod(
                daemon_pod(&world.agent.clone(), n).key,
            )),
            at(1),
        );
    }
    assert!(run(&mut engine, &mut world, 0, 1000).is_empty());
    let alerts = engine.alerts(at(1000));
    assert!(alerts.is_empty(), "{alerts:?}");
    world.apply(Object::Node(worker("w-1")), 1005);
    let sent = run(&mut engine, &mut world, 1005, 1400);
    assert_eq!(
        sent.iter().flat_map(names).collect::<Vec<_>>(),
        vec!["DaemonSetPodMissing"],
        "uncordoned: it pages"
    );
}

#[test]
fn a_silence_holds_the_notification_back_until_it_is_expired() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), None);
    let request = SilenceRequest {
        matchers: vec![
            "alertname=DaemonSetPodsStranded".to_owned(),
            "node=~w-[0-9]".to_owned(),
        ],
        duration: "1h".to_owned(),
        created_by: "tests".to_owned(),
        comment: "planned".to_owned(),
    };
    let silence = engine.silence(request, at(0)).unwrap();
    world.fail_w2(0);
    assert!(run(&mut engine, &mut world, 0, 600).is_empty());
    assert_eq!(engine.alerts(at(600))[0].state, "silenced");
    assert!(engine.expire_silence(&silence.id, at(605)));
    let sent = run(&mut engine, &mut world, 605, 700);
    assert_eq!(sent.len(), 1);
    let bad = SilenceRequest {
        matchers: vec!["node".to_owned()],
        duration: "1h".to_owned(),
        created_by: "x".to_owned(),
        comment: String::new(),
    };
    assert!(
        engine
            .silence(bad, at(0))
            .unwrap_err()
            .to_string()
            .starts_with("matchers: ")
    );
}

#[test]
fn blindness_holds_back_every_coverage_alert_and_raises_its_own() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), None);
    world.fail_w2(0);
    world
        .model
        .handle(WatchEvent::Failed(Resource::Pods, "watch_failed"), at(1));
    let sent = run(&mut engine, &mut world, 0, 400);
    assert_eq!(
        sent.iter().flat_map(names).collect::<Vec<_>>(),
        vec!["DsguardBlind"],
        "{sent:#?}"
    );
    // Blind from 61 s, fires after one minute, sent after the group wait.
    assert_eq!(sent[0].created_at, at(135));
}

#[test]
fn a_restart_with_a_state_directory_neither_repeats_nor_forgets() {
    let dir = std::env::temp_dir().join(format!(
        "dsguard-alert-state-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), Some(dir.clone()));
    world.fail_w2(0);
    assert_eq!(run(&mut engine, &mut world, 0, 300).len(), 1);
    drop(engine);
    let mut engine = AlertEngine::new(settings("ops"), Some(dir.clone()));
    assert!(
        run(&mut engine, &mut world, 300, 600).is_empty(),
        "no duplicate after the restart"
    );
    world.recover_w2(700);
    let sent = run(&mut engine, &mut world, 700, 800);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].status,
        Status::Resolved,
        "the resolve still goes out"
    );
    std::fs::write(dir.join("alerts.json"), "{not json").unwrap();
    let engine = AlertEngine::new(settings("ops"), Some(dir.clone()));
    assert!(
        engine.alerts(at(900)).is_empty(),
        "a corrupt state is set aside"
    );
    assert!(dir.join("alerts.json.corrupt").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_decision_keeps_its_notification_pending_across_a_crash_until_the_dispatcher_holds_it() {
    let dir = std::env::temp_dir().join(format!(
        "dsguard-alert-pending-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), Some(dir.clone()));
    world.fail_w2(0);
    let sent = run(&mut engine, &mut world, 0, 300);
    assert_eq!(sent.len(), 1);
    // kill -9 before the dispatcher got it: the decision and the notification come back together.
    drop(engine);
    let mut engine = AlertEngine::new(settings("ops"), Some(dir.clone()));
    assert_eq!(engine.pending(), sent, "handed over again as decided");
    assert_eq!(engine.pending()[0].id(), sent[0].id(), "under the same id");
    assert!(
        run(&mut engine, &mut world, 300, 600).is_empty(),
        "not decided a second time"
    );
    assert_eq!(engine.release_held(&|_| false), 1, "kept until held");
    assert_eq!(engine.release_held(&|_| true), 0);
    drop(engine);
    let mut engine = AlertEngine::new(settings("ops"), Some(dir.clone()));
    assert!(engine.pending().is_empty(), "released for good");
    world.recover_w2(700);
    let resolved = run(&mut engine, &mut world, 700, 800);
    assert_eq!(resolved.len(), 1);
    drop(engine);
    let engine = AlertEngine::new(settings("ops"), Some(dir.clone()));
    assert_eq!(engine.pending(), resolved, "a resolve is kept the same way");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_a_receiver_alerts_are_listed_but_not_sent() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(AlertSettings::default(), None);
    world.fail_w2(0);
    assert!(run(&mut engine, &mut world, 0, 400).is_empty());
    let alerts = engine.alerts(at(400));
    assert_eq!((alerts.len(), alerts[0].state), (1, "firing"));
}

#[test]
fn fingerprints_are_stable_and_label_sensitive() {
    let a: BTreeMap<String, String> = [
        ("alertname".to_owned(), "X".to_owned()),
        ("node".to_owned(), "n".to_owned()),
    ]
    .into();
    let mut b = a.clone();
    b.insert("node".to_owned(), "m".to_owned());
    assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
    assert_ne!(fingerprint(&a), fingerprint(&b));
    assert_eq!(fingerprint(&a).len(), 16);
}

#[test]
fn blindness_holds_firing_alerts_instead_of_resolving_them() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), None);
    world.fail_w2(0);
    assert_eq!(
        run(&mut engine, &mut world, 0, 300).len(),
        1,
        "stranded fired"
    );
    // The pods watch fails for ten minutes: blind from 60 s after the failure.
    world
        .model
        .handle(WatchEvent::Failed(Resource::Pods, "watch_failed"), at(305));
    let sent = run(&mut engine, &mut world, 305, 900);
    assert_eq!(
        sent.iter().flat_map(names).collect::<Vec<_>>(),
        vec!["DsguardBlind"],
        "no resolve of the held alert: {sent:#?}"
    );
    let held = engine.alerts(at(900));
    assert!(
        held.iter()
            .any(|a| a.alert.labels["alertname"] == "DaemonSetPodsStranded" && a.state == "firing"),
        "{held:?}"
    );
    // The watch recovers, the node is still down: DsguardBlind resolves, no second stranded page.
    world
        .model
        .handle(WatchEvent::WatchStarted(Resource::Pods), at(905));
    let sent = run(&mut engine, &mut world, 905, 1100);
    let statuses: Vec<(String, Status)> = sent
        .iter()
        .map(|n| (names(n).join(","), n.status))
        .collect();
    assert_eq!(
        statuses,
        vec![("DsguardBlind".to_owned(), Status::Resolved)]
    );
}

#[test]
fn the_reconcile_plans_advice_rides_on_the_alert_of_the_cells_it_closes() {
    let mut world = World::new();
    let mut engine = AlertEngine::new(settings("ops"), None);
    world.fail_w2(0);
    let advice = |ds: &crate::cluster::ObjectKey, node: &str| {
        (ds.name == "agent" && node == "w-2")
            .then(|| "mark_node_out_of_service: ... Run: kubectl taint node w-2 ...".to_owned())
    };
    let mut sent = Vec::new();
    for t in (0..=300).step_by(5) {
        world.model.tick(at(t));
        sent.extend(engine.evaluate_with_advice(&world.model, at(t), &advice));
    }
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].alerts[0]
            .annotations
            .get("advice")
            .map(String::as_str),
        Some("mark_node_out_of_service: ... Run: kubectl taint node w-2 ...")
    );
}

mod handover;
