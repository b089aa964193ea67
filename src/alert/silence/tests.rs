//! Silences: bounded, collected when expired, and never over `DsguardBlind`.

use jiff::SignedDuration;

use super::super::*;
use crate::cluster::{Resource, WatchEvent};

fn at(seconds: i64) -> Timestamp {
    "2026-11-22T00:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(seconds)
}

fn engine(state_dir: Option<PathBuf>) -> AlertEngine {
    let settings = AlertSettings {
        route: serde_json::from_value(serde_json::json!({"receiver": "ops", "group_wait": "10s"}))
            .unwrap(),
        ..AlertSettings::default()
    };
    AlertEngine::new(settings, state_dir)
}

fn request(matchers: &[&str], duration: &str) -> SilenceRequest {
    SilenceRequest {
        matchers: matchers.iter().map(|m| (*m).to_owned()).collect(),
        duration: duration.to_owned(),
        created_by: "ops".to_owned(),
        comment: "maintenance".to_owned(),
    }
}

/// Synced at 0, the pod watch failing from 1 s: blind from 61 s, `DsguardBlind` fires a
/// minute later.
fn blind_model() -> Model {
    let mut model = Model::new(
        crate::coverage::Settings::default(),
        SignedDuration::from_secs(60),
        at(0),
    );
    for resource in Resource::ALL {
        model.handle(WatchEvent::Synced(resource), at(0));
    }
    model.handle(WatchEvent::Failed(Resource::Pods, "watch_failed"), at(1));
    model
}

#[test]
fn a_silence_matching_everything_never_mutes_dsguard_blind() {
    let mut engine = engine(None);
    let mut model = blind_model();
    let mute_all = engine
        .silence(request(&["alertname=~.*"], "720h"), at(0))
        .expect("muting everything else is allowed");
    let mut sent = Vec::new();
    for t in (0..=400).step_by(5) {
        model.tick(at(t));
        sent.extend(engine.evaluate(&model, at(t)));
    }
    let names: Vec<&str> = sent
        .iter()
        .flat_map(|n| n.alerts.iter().map(|a| a.labels["alertname"].as_str()))
        .collect();
    assert_eq!(names, ["DsguardBlind"], "notified despite {}", mute_all.id);
    let views = engine.alerts(at(400));
    assert_eq!(views[0].alert.labels["alertname"], "DsguardBlind");
    assert_eq!(views[0].state, "firing");
    assert!(views[0].silenced_by.is_empty());
}

#[test]
fn oversized_silences_are_refused_naming_the_field_and_the_setting() {
    let mut engine = engine(None);
    let many: Vec<String> = (0..17).map(|i| format!("node=w-{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let long_matcher = format!("node=~{}", "w|".repeat(600));
    let refusals = [
        (
            request(&many, "1h"),
            "matchers: 17 matchers, more than the 16",
        ),
        (
            request(&[&long_matcher], "1h"),
            "matchers[0]: 1206 bytes, longer than the 1024 allowed",
        ),
        (
            request(&["node=w-1"], "87600h"),
            "duration: 3650d0h is longer",
        ),
        (
            SilenceRequest {
                comment: "x".repeat(1_900_000),
                ..request(&["node=w-1"], "1h")
            },
            "comment: 1900000 bytes, longer than the 4096 allowed",
        ),
        (
            SilenceRequest {
                created_by: "x".repeat(300),
                ..request(&["node=w-1"], "1h")
            },
            "created_by: 300 bytes",
        ),
    ];
    for (request, expected) in refusals {
        let error = engine.silence(request, at(0)).unwrap_err();
        assert!(matches!(error, SilenceError::Invalid(_)), "{error}");
        assert!(error.to_string().starts_with(expected), "{error}");
    }
    assert!(engine.silences(at(0)).is_empty(), "nothing was kept");
}

#[test]
fn no_more_than_max_active_silences_and_an_expired_one_makes_room() {
    let mut engine = engine(None);
    for i in 0..100 {
        let node = format!("node=w-{i}");
        engine.silence(request(&[&node], "1h"), at(0)).unwrap();
    }
    let error = engine
        .silence(request(&["node=w-100"], "1h"), at(1))
        .unwrap_err();
    assert_eq!(error, SilenceError::TooMany(100));
    assert!(error.to_string().contains("alerting.silences.max_active"));
    assert!(engine.expire_silence("s1", at(2)));
    let made_room = engine.silence(request(&["node=w-100"], "1h"), at(3));
    assert_eq!(made_room.unwrap().id, "s101");
}

#[test]
fn expired_silences_are_dropped_from_memory_and_the_state_file() {
    let dir = std::env::temp_dir().join(format!("dsguard-silence-gc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut engine = engine(Some(dir.clone()));
    let model = blind_model();
    engine.silence(request(&["node=w-1"], "1m"), at(0)).unwrap();
    let saved = || std::fs::read_to_string(dir.join("alerts.json")).unwrap();
    assert!(saved().contains("node=w-1"));
    engine.evaluate(&model, at(30));
    assert_eq!(engine.state.silences.len(), 1, "still active at 30 s");
    engine.evaluate(&model, at(61));
    assert!(engine.state.silences.is_empty(), "expired at 60 s");
    assert!(!saved().contains("node=w-1"), "{}", saved());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_silence_created_on_one_replica_reaches_the_other_and_so_does_its_expiry() {
    let (mut a, mut b) = (engine(None), engine(None));
    a.set_silence_prefix("dsguard-a");
    b.set_silence_prefix("dsguard-b");
    let made = a.silence(request(&["node=w-1"], "1h"), at(0)).unwrap();
    assert_eq!(made.id, "dsguard-a-s1");
    let other = b.silence(request(&["node=w-2"], "1h"), at(0)).unwrap();
    assert_ne!(other.id, made.id, "ids never collide across replicas");
    let shared = a.merge_silences(SharedSilences::default(), at(1));
    let shared = b.merge_silences(shared, at(1));
    assert_eq!(shared.silences.len(), 2);
    let ids = |e: &mut AlertEngine| -> Vec<String> {
        e.silences(at(2)).into_iter().map(|s| s.id).collect()
    };
    assert_eq!(ids(&mut b), ["dsguard-a-s1", "dsguard-b-s1"]);
    let shared = a.merge_silences(shared, at(2));
    assert_eq!(ids(&mut a), ["dsguard-a-s1", "dsguard-b-s1"]);
    // b expires a's silence; a evaluates (which collects expired silences) before it merges.
    assert!(b.expire_silence("dsguard-a-s1", at(3)));
    b.silences(at(4));
    let shared = b.merge_silences(shared, at(5));
    a.merge_silences(shared.clone(), at(6));
    assert_eq!(ids(&mut a), ["dsguard-b-s1"], "the expiry reached a");
    // The expiry stays shared for the tombstone period, then goes.
    assert_eq!(shared.silences.len(), 2);
    let later = at(6) + TOMBSTONE;
    let shared = a.merge_silences(shared, later);
    assert_eq!(shared.silences.len(), 1, "{shared:#?}");
}

#[test]
fn a_replica_without_its_state_file_numbers_its_silences_after_the_shared_ones() {
    let mut a = engine(None);
    a.set_silence_prefix("dsguard-a");
    a.silence(request(&["node=w-1"], "1h"), at(0)).unwrap();
    let shared = a.merge_silences(SharedSilences::default(), at(1));
    let mut restarted = engine(None);
    restarted.set_silence_prefix("dsguard-a");
    restarted.merge_silences(shared, at(2));
    let next = restarted
        .silence(request(&["node=w-3"], "1h"), at(3))
        .unwrap();
    assert_eq!(next.id, "dsguard-a-s2");
}

#[test]
fn an_expiry_through_the_api_is_remembered_for_the_tombstone_period_only() {
    let mut engine = engine(None);
    let model = blind_model();
    engine.silence(request(&["node=w-1"], "1h"), at(0)).unwrap();
    assert!(engine.expire_silence("s1", at(10)));
    engine.evaluate(&model, at(20));
    assert!(
        engine.state.expired.contains_key("s1"),
        "others must learn of it"
    );
    engine.evaluate(&model, at(11) + TOMBSTONE);
    assert!(
        engine.state.expired.is_empty(),
        "forgotten after the period"
    );
}
