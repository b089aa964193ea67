//! Failover with two real `dsguard run` replicas (leader election on) against `dsguard sim` and
//! one webhook receiver (`common::failover`):
//!
//! - the leader is `kill -9`ed at a random moment of an incident, then within 3 s after its page
//!   arrived: the other takes over within the lease duration + 5 s, the page goes out once (a second
//!   copy only with the same `Idempotency-Key`) and the resolve exactly once. Two rounds here;
//!   `cargo bench --bench failover` runs ten and prints the totals.
//! - a silence posted to the follower holds on the leader, and expiring it on the follower lets
//!   the leader page.

mod common;

use std::time::{Duration, Instant};

use common::failover::{FAILS_AT, RECOVERS_AT, Replica, TOKEN, count, get, leader, rounds, start};
use common::wait_for;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_mid_incident_neither_repeats_the_page_nor_loses_the_resolve() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let rounds = rounds("dsguard-ha-failover", 2, seed).await;
    for round in &rounds {
        assert_eq!(
            round.page_keys, 1,
            "one page, or its copy with the same key: {round:?}"
        );
        assert_eq!(round.resolve_keys, 1, "one resolve: {round:?}");
        assert_eq!(round.duplicates() + round.lost_resolves(), 0);
    }
}

/// POSTs a silence of every `DaemonSetPodsStranded` to `replica`; returns its id.
async fn silence(replica: &Replica) -> String {
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/silences", replica.url))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({
            "matchers": ["alertname=DaemonSetPodsStranded"],
            "duration": "1h",
            "created_by": "ha test",
        }))
        .send()
        .await
        .expect("the follower answers");
    assert_eq!(answer.status(), 201);
    let body: serde_json::Value = answer.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// The ids of the silences `replica` holds.
async fn silences(replica: &Replica) -> Vec<String> {
    let listed = get(&format!("{}/api/v1/silences", replica.url)).await;
    listed
        .and_then(|l| l.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect()
}

/// The state (`firing`, `silenced`, …) of worker-2's stranded alert on `replica`, if active.
async fn stranded_state(replica: &Replica) -> Option<String> {
    let alerts = get(&format!("{}/api/v1/alerts", replica.url)).await?;
    alerts["alerts"].as_array()?.iter().find_map(|a| {
        (a["labels"]["alertname"] == "DaemonSetPodsStranded" && a["labels"]["node"] == "worker-2")
            .then(|| a["state"].as_str().unwrap_or("").to_owned())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_posted_to_the_follower_holds_on_the_leader_until_it_is_expired_there() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("dsguard-ha-silence-{}", std::process::id()));
    let (_sim, received, replicas) = start(&dir).await;
    let lead = leader(&replicas, Duration::from_secs(20)).await;
    let (leader, follower) = (&replicas[lead], &replicas[1 - lead]);
    // Posted before the failure is noticed (about 9 s), so that it must hold from the start.
    println!(
        "silence posted {:.1}s after the start (the node fails at {:?})",
        started.elapsed().as_secs_f64(),
        FAILS_AT
    );
    let id = silence(follower).await;
    let limit = Instant::now() + Duration::from_secs(5);
    while !silences(leader).await.contains(&id) {
        assert!(
            Instant::now() < limit,
            "the silence {id} never reached the leader"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Stranded at about 11 s (failure, 3 s grace of the node controller, 2 s of dsguard's): the
    // leader shows it silenced and sends nothing.
    let limit = Instant::now() + Duration::from_secs(20);
    while stranded_state(leader).await.as_deref() != Some("silenced") {
        assert!(
            Instant::now() < limit,
            "worker-2 never showed silenced on the leader"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        count(&received, "firing").0,
        0,
        "the silenced alert was delivered"
    );
    // Expired on the follower, it pages from the leader, before the node recovers.
    let expired = reqwest::Client::new()
        .delete(format!("{}/api/v1/silences/{id}", follower.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(expired.status().is_success(), "{}", expired.status());
    wait_for(
        "the page once the silence expired",
        Duration::from_secs(6),
        || count(&received, "firing").0 > 0,
    )
    .await;
    assert!(
        started.elapsed() < RECOVERS_AT,
        "paged only after the recovery"
    );
    assert_eq!(count(&received, "firing").1, 1, "one page");
    drop(replicas);
    let _ = std::fs::remove_dir_all(&dir);
}
