//! Evaluating only after changes and at the deadlines the model and the engine announce decides
//! exactly what evaluating every second decides: same notifications, at the same moments.

use jiff::SignedDuration;

use super::*;
use crate::alert::{AlertSettings, SilenceRequest};
use crate::cluster::build::{daemon_pod, daemonset, node};
use crate::cluster::{ControllerStatus, DaemonSetInfo, NodeInfo, Object, Resource, WatchEvent};
use crate::model::Model;
use crate::notification::Notification;

fn at(seconds: i64) -> Timestamp {
    "2026-11-22T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

fn settings() -> AlertSettings {
    AlertSettings {
        route: serde_json::from_value(serde_json::json!({
            "receiver": "ops", "group_wait": "10s", "group_interval": "1m", "repeat_interval": "20m"
        }))
        .unwrap(),
        ..AlertSettings::default()
    }
}

fn worker(name: &str) -> NodeInfo {
    node(name).created_at(at(-86_400))
}

fn agent() -> DaemonSetInfo {
    daemonset("kube-system", "agent")
}

/// What happens to the cluster (and to the silences), by second.
#[derive(Clone, Debug)]
enum Step {
    Apply(Box<Object>),
    Silence(&'static str, &'static str),
}

impl Step {
    fn apply(object: Object) -> Self {
        Self::Apply(Box::new(object))
    }
}

fn story() -> Vec<(i64, Step)> {
    let ds = agent();
    let mut steps = vec![(0, Step::apply(Object::DaemonSet(ds.clone())))];
    for n in ["w-1", "w-2", "w-3"] {
        steps.push((0, Step::apply(Object::Node(worker(n)))));
        steps.push((0, Step::apply(Object::Pod(daemon_pod(&ds, n)))));
    }
    let failed = worker("w-2").unreachable().health_changed_at(at(100));
    steps.push((100, Step::apply(Object::Node(failed))));
    steps.push((
        100,
        Step::apply(Object::Pod(daemon_pod(&ds, "w-2").not_ready())),
    ));
    // A controller status that disagrees: DaemonSetControllerMismatch after its `for`.
    let status = ControllerStatus {
        desired: 7,
        ..ControllerStatus::default()
    };
    steps.push((
        150,
        Step::apply(Object::DaemonSet(ds.clone().with_status(status))),
    ));
    steps.push((
        300,
        Step::apply(Object::Pod(
            daemon_pod(&ds, "w-3").crashing("CrashLoopBackOff"),
        )),
    ));
    steps.push((420, Step::Silence("alertname=DaemonSetPodNotReady", "7m")));
    let back = worker("w-2").health_changed_at(at(2000));
    steps.push((2000, Step::apply(Object::Node(back))));
    steps.push((
        2000,
        Step::apply(Object::Pod(daemon_pod(&ds, "w-2").ready_since(at(2000)))),
    ));
    // w-1 fails and comes back; its pod crashes soon after: unreplaced until the incident is
    // INCIDENT_WINDOW old, then a plain DaemonSetPodNotReady.
    let failed = worker("w-1").unreachable().health_changed_at(at(2500));
    steps.push((2500, Step::apply(Object::Node(failed))));
    steps.push((
        2500,
        Step::apply(Object::Pod(daemon_pod(&ds, "w-1").not_ready())),
    ));
    let back = worker("w-1").health_changed_at(at(2600));
    steps.push((2600, Step::apply(Object::Node(back))));
    steps.push((
        2600,
        Step::apply(Object::Pod(daemon_pod(&ds, "w-1").ready_since(at(2600)))),
    ));
    steps.push((
        2700,
        Step::apply(Object::Pod(
            daemon_pod(&ds, "w-1").crashing("CrashLoopBackOff"),
        )),
    ));
    steps
}

fn new_model() -> Model {
    let mut model = Model::new(
        crate::coverage::Settings::default(),
        SignedDuration::from_secs(60),
        at(0),
    );
    for resource in Resource::ALL {
        model.handle(WatchEvent::Synced(resource), at(0));
    }
    model
}

fn take(step: &Step, model: &mut Model, engine: &mut AlertEngine, t: i64) {
    match step {
        Step::Apply(object) => {
            model.handle(WatchEvent::Applied((**object).clone()), at(t));
        }
        Step::Silence(matcher, duration) => {
            let request = SilenceRequest {
                matchers: vec![(*matcher).to_owned()],
                duration: (*duration).to_owned(),
                created_by: "tests".to_owned(),
                comment: "deadline test".to_owned(),
            };
            engine.silence(request, at(t)).unwrap();
        }
    }
}

const END: i64 = 4700;

/// Whole seconds, rounded up: the dense timer sees a moment at the next second.
fn ceil(t: Timestamp) -> Timestamp {
    let up = i64::from(t.subsec_nanosecond() > 0);
    Timestamp::from_second(t.as_second() + up).unwrap()
}

/// The notifications with every moment rounded up to the second.
fn to_seconds(mut notifications: Vec<Notification>) -> Vec<Notification> {
    for n in &mut notifications {
        n.created_at = ceil(n.created_at);
        for alert in &mut n.alerts {
            alert.starts_at = ceil(alert.starts_at);
            alert.ends_at = alert.ends_at.map(ceil);
        }
    }
    notifications
}

/// Ticks and evaluates every second, as a dense timer would.
fn every_second() -> Vec<Notification> {
    let (mut model, mut engine) = (new_model(), AlertEngine::new(settings(), None));
    let steps = story();
    let mut out = Vec::new();
    for t in 0..=END {
        for (_, step) in steps.iter().filter(|(s, _)| *s == t) {
            take(step, &mut model, &mut engine, t);
        }
        model.tick(at(t));
        out.extend(engine.evaluate(&model, at(t)));
    }
    out
}

/// Evaluates after each change and at the next deadline only; returns the notifications and
/// how many evaluations that took.
fn on_change_and_deadline() -> (Vec<Notification>, usize) {
    let (mut model, mut engine) = (new_model(), AlertEngine::new(settings(), None));
    let mut steps = story().into_iter().peekable();
    let (mut out, mut evaluations) = (Vec::new(), 0);
    let mut now = at(0);
    loop {
        let deadline = [model.next_deadline(now), engine.next_deadline(now)]
            .into_iter()
            .flatten()
            .min();
        let next_step = steps.peek().map(|(t, _)| at(*t));
        now = match (deadline, next_step) {
            (Some(d), Some(s)) => d.min(s),
            (Some(d), None) => d,
            (None, Some(s)) => s,
            (None, None) => break,
        };
        if now > at(END) {
            break;
        }
        while let Some((t, step)) = steps.next_if(|(t, _)| at(*t) == now) {
            take(&step, &mut model, &mut engine, t);
        }
        model.tick(now);
        out.extend(engine.evaluate(&model, now));
        evaluations += 1;
    }
    (out, evaluations)
}

#[test]
fn deadlines_decide_what_a_dense_timer_decides_with_far_fewer_evaluations() {
    let dense = every_second();
    let (sparse, evaluations) = on_change_and_deadline();
    let moments: Vec<(Timestamp, usize)> = dense
        .iter()
        .map(|n| (n.created_at, n.alerts.len()))
        .collect();
    assert!(
        dense.len() >= 5,
        "the story must exercise group_wait, group_interval, repeat, resolve: {moments:?}"
    );
    let names: Vec<String> = dense
        .iter()
        .flat_map(|n| n.alerts.iter().map(|a| a.labels["alertname"].clone()))
        .collect();
    assert!(
        names.iter().any(|n| n == "DaemonSetPodUnreplaced")
            && names.iter().any(|n| n == "DaemonSetPodNotReady")
            && names.iter().any(|n| n == "DaemonSetControllerMismatch"),
        "{names:?}"
    );
    assert_eq!(to_seconds(sparse), dense);
    assert!(evaluations < 60, "{evaluations} evaluations");
}

#[test]
fn each_kind_of_deadline_is_announced() {
    let mut model = new_model();
    let mut engine = AlertEngine::new(settings(), None);
    for (t, step) in story().iter().filter(|(t, _)| *t <= 100) {
        take(step, &mut model, &mut engine, *t);
    }
    model.tick(at(100));
    assert!(engine.evaluate(&model, at(100)).is_empty());
    // The stranded pod's grace (2 minutes from the node's Ready transition) is the model's.
    assert_eq!(model.next_deadline(at(100)), Some(at(220)));
    assert_eq!(
        engine.next_deadline(at(100)),
        None,
        "nothing pending in the engine"
    );

    model.tick(at(220));
    assert!(engine.evaluate(&model, at(220)).is_empty(), "group_wait");
    assert_eq!(
        engine.next_deadline(at(220)),
        Some(at(230)),
        "group_wait ends"
    );
    assert_eq!(engine.evaluate(&model, at(230)).len(), 1);
    assert_eq!(
        engine.next_deadline(at(230)),
        Some(at(230 + 1200)),
        "repeat_interval of a firing group"
    );

    let silence = SilenceRequest {
        matchers: vec!["node=w-9".to_owned()],
        duration: "5m".to_owned(),
        created_by: "tests".to_owned(),
        comment: String::new(),
    };
    let changes = engine.changes();
    engine.silence(silence, at(240)).unwrap();
    assert!(
        changes.notified().now_or_never_ready(),
        "a new silence wakes the evaluator"
    );
    assert_eq!(
        engine.next_deadline(at(240)),
        Some(at(540)),
        "the silence ends"
    );
}

/// Whether a `Notified` future completes at once (a permit is stored).
trait NowOrNever {
    fn now_or_never_ready(self) -> bool;
}

impl<F: std::future::Future> NowOrNever for F {
    fn now_or_never_ready(self) -> bool {
        futures::FutureExt::now_or_never(self).is_some()
    }
}

#[test]
fn a_failing_watch_announces_when_dsguard_turns_blind() {
    let mut model = new_model();
    assert_eq!(model.next_deadline(at(10)), None, "nothing waits for time");
    model.handle(WatchEvent::Failed(Resource::Pods, "http_error"), at(10));
    assert!(
        model.blindness().is_none(),
        "not yet past the staleness bound"
    );
    assert_eq!(model.next_deadline(at(10)), Some(at(70)));
    model.tick(at(70));
    assert!(model.blindness().is_some(), "blind at the announced moment");
}
