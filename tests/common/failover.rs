//! Two real `dsguard run` replicas with leader election against `dsguard sim` and one webhook
//! receiver, for the failover test and bench: worker-2 fails and recovers, the leader is
//! `kill -9`ed at a chosen moment of the incident, and the round counts what the receiver got.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Killed, Received, free_port, hook, start_dsguard_at, start_sim_at_real_speed};
use super::{wait_for, write_config};

/// The Lease's timings in these runs: a takeover must come within `LEASE + 5 s`.
pub const LEASE: Duration = Duration::from_secs(3);

/// Where the scenario's node fails and recovers, from the simulator's start.
pub const FAILS_AT: Duration = Duration::from_secs(6);
/// See [`FAILS_AT`].
pub const RECOVERS_AT: Duration = Duration::from_secs(20);

/// The token the replicas' API takes for writes (silences).
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// One worker fails at 6 s and recovers at 20 s; the controller notices after 3 s.
pub const SCENARIO: &str = "name: ha-failover\n\
    description: One node fails and recovers while two dsguard replicas watch.\n\
    settings: { node_monitor_grace: 3s, node_status_interval: 1s, pod_start_delay: 1s, pod_ready_delay: 1s, duration: 600s }\n\
    nodes:\n  - { name: worker, count: 3 }\n\
    daemonsets:\n  - { name: agent, namespace: kube-system }\n\
    timeline:\n  - { at: 6s, fail_node: worker-2 }\n  - { at: 20s, recover_node: worker-2 }\n";

/// A running replica.
pub struct Replica {
    /// Its identity in the Lease.
    pub id: String,
    /// Its API, `http://127.0.0.1:<port>`.
    pub url: String,
    /// The process.
    pub process: Option<Killed>,
}

/// The restart tests' settings plus leader election with short timings and the API token.
pub fn write_ha_config(dir: &Path, hook: &str, id: &str) -> PathBuf {
    let state_dir = dir.join(id);
    std::fs::create_dir_all(&state_dir).unwrap();
    let path = dir.join(format!("{id}.yaml"));
    write_config(&path, &state_dir, hook);
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "ha:\n  enabled: true\n  namespace: kube-system\n  identity: {id}\n  \
         lease_duration: {}s\n  renew_deadline: 2s\n  retry_period: 500ms\n\
         server:\n  auth: {{ token_file: {} }}\n",
        LEASE.as_secs(),
        token.display()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts the simulator, the receiver and the replicas `dsguard-a` and `dsguard-b`.
pub async fn start(dir: &Path) -> (Killed, Received, Vec<Replica>) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let (sim, kubeconfig) = start_sim_at_real_speed(dir, SCENARIO).await;
    let (hook, received) = hook().await;
    let replicas = ["dsguard-a", "dsguard-b"]
        .into_iter()
        .map(|id| {
            let config = write_ha_config(dir, &hook, id);
            let port = free_port();
            Replica {
                id: id.to_owned(),
                url: format!("http://127.0.0.1:{port}"),
                process: Some(start_dsguard_at(&config, &kubeconfig, port, None)),
            }
        })
        .collect();
    (sim, received, replicas)
}

/// `GET url` as JSON; `None` when the replica does not answer.
pub async fn get(url: &str) -> Option<Value> {
    let answer = reqwest::get(url).await.ok()?;
    answer.json().await.ok()
}

/// Whether this replica says it leads.
pub async fn leads(replica: &Replica) -> bool {
    let Some(ready) = get(&format!("{}/readyz", replica.url)).await else {
        return false;
    };
    ready["leader"]["leading"].as_bool() == Some(true)
}

/// The index of the replica that leads, waiting up to `limit`.
pub async fn leader(replicas: &[Replica], limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        for (i, replica) in replicas.iter().enumerate() {
            if replica.process.is_some() && leads(replica).await {
                return i;
            }
        }
        assert!(Instant::now() < deadline, "no leader within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What one round saw.
#[derive(Debug, Default)]
pub struct Round {
    /// When the leader was killed, from the simulator's start.
    pub killed_at: Duration,
    /// Which replica was killed.
    pub killed: String,
    /// From the kill until the other replica said it leads.
    pub takeover: Duration,
    /// POSTs with the firing `DaemonSetPodsStranded` of worker-2, and their distinct keys.
    pub page_posts: usize,
    /// See [`Round::page_posts`].
    pub page_keys: usize,
    /// POSTs with its resolve, and their distinct keys.
    pub resolve_posts: usize,
    /// See [`Round::resolve_posts`].
    pub resolve_keys: usize,
}

impl Round {
    /// Pages beyond the first that carry another `Idempotency-Key`.
    pub fn duplicates(&self) -> usize {
        self.page_keys.saturating_sub(1) + self.resolve_keys.saturating_sub(1)
    }

    /// 1 when the resolve never came.
    pub fn lost_resolves(&self) -> usize {
        usize::from(self.resolve_keys == 0)
    }
}

/// Posts carrying the stranded alert of worker-2 with this status, and their distinct keys.
pub fn count(received: &Received, status: &str) -> (usize, usize) {
    let posts = received.lock().unwrap();
    let matching: Vec<&super::Post> = posts
        .iter()
        .filter(|p| {
            p.alerts().iter().any(|(name, node, s)| {
                name == "DaemonSetPodsStranded" && node == "worker-2" && s == status
            })
        })
        .collect();
    let keys: std::collections::BTreeSet<&str> = matching.iter().map(|p| p.key.as_str()).collect();
    (matching.len(), keys.len())
}

/// When to kill the leader.
#[derive(Clone, Copy, Debug)]
pub enum Kill {
    /// This long after the simulator started.
    At(Duration),
    /// This long after the receiver got the page (the leader may not have recorded it yet).
    AfterPage(Duration),
}

/// One round in `dir`, the leader killed at `kill`.
pub async fn round(dir: &Path, kill: Kill) -> Round {
    let started = Instant::now();
    let (_sim, received, mut replicas) = start(dir).await;
    leader(&replicas, Duration::from_secs(20)).await;
    match kill {
        Kill::At(at) => tokio::time::sleep(at.saturating_sub(started.elapsed())).await,
        Kill::AfterPage(delay) => {
            wait_for("the page", Duration::from_secs(30), || {
                count(&received, "firing").0 > 0
            })
            .await;
            tokio::time::sleep(delay).await;
        }
    }
    // The leader now (it may have changed since it was first seen).
    let victim = leader(&replicas, Duration::from_secs(10)).await;
    let killed_at = started.elapsed();
    drop(replicas[victim].process.take());
    let killed = Instant::now();
    let survivor = &replicas[1 - victim];
    let limit = LEASE + Duration::from_secs(5);
    while !leads(survivor).await {
        assert!(
            killed.elapsed() < limit,
            "{} did not take over within {limit:?}",
            survivor.id
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let takeover = killed.elapsed();
    // The resolve comes a few seconds after the recovery; a round that never sees it counts it
    // lost rather than failing here.
    let deadline = started + RECOVERS_AT + Duration::from_secs(15);
    while count(&received, "resolved").0 == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A little longer, for a second copy.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (page_posts, page_keys) = count(&received, "firing");
    let (resolve_posts, resolve_keys) = count(&received, "resolved");
    drop(replicas);
    let _ = std::fs::remove_dir_all(dir);
    Round {
        killed_at,
        killed: ["dsguard-a", "dsguard-b"][victim].to_owned(),
        takeover,
        page_posts,
        page_keys,
        resolve_posts,
        resolve_keys,
    }
}

/// xorshift64*: kill moments need to vary, not to be unpredictable.
pub struct Rng(pub u64);

impl Rng {
    /// A moment between `from` and `to`.
    pub fn between(&mut self, from: Duration, to: Duration) -> Duration {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let span = (to - from).as_millis() as u64;
        from + Duration::from_millis(x % span.max(1))
    }
}

/// `rounds` rounds, one after the other: even ones kill at a moment drawn between the failure
/// and the recovery (a second either side), odd ones within 3 s after the page arrived (when the
/// leader may not have recorded its delivery yet). Prints each round and the totals.
pub async fn rounds(name: &str, rounds: usize, seed: u64) -> Vec<Round> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::new();
    for i in 0..rounds {
        let kill = match i % 2 {
            0 => Kill::At(rng.between(
                FAILS_AT - Duration::from_secs(1),
                RECOVERS_AT - Duration::from_secs(1),
            )),
            _ => Kill::AfterPage(rng.between(Duration::ZERO, Duration::from_secs(3))),
        };
        let dir = std::env::temp_dir().join(format!("{name}-{}-{i}", std::process::id()));
        let round = round(&dir, kill).await;
        println!(
            "round {i}: killed {} at {:.1}s, takeover {:.1}s, pages {} ({} keys), resolves {} ({} keys)",
            round.killed,
            round.killed_at.as_secs_f64(),
            round.takeover.as_secs_f64(),
            round.page_posts,
            round.page_keys,
            round.resolve_posts,
            round.resolve_keys
        );
        out.push(round);
    }
    let sum = |f: fn(&Round) -> usize| out.iter().map(f).sum::<usize>();
    println!(
        "{name} (seed {seed}): {} rounds, pages {} (POSTs {}), duplicates with a different key {}, \
         lost resolves {}, slowest takeover {:.1}s",
        out.len(),
        sum(|r| r.page_keys),
        sum(|r| r.page_posts),
        sum(Round::duplicates),
        sum(Round::lost_resolves),
        out.iter()
            .map(|r| r.takeover.as_secs_f64())
            .fold(0.0, f64::max)
    );
    out
}
