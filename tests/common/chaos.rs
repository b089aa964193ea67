//! Chaos: a simulated cluster (in this process, at real speed: `dsguard run` reads the system
//! clock, so both must agree on "now") plays a series of node failures while the real
//! `dsguard run` binary is `kill -9`ed, at random moments and right after it logs "notification
//! decided", and started again on the same state directory, against a recording webhook.
//!
//! What each failure must produce is known by hand: one `DaemonSetPodsStranded` firing for the
//! node, one resolve. [`Tally`] counts what arrived against it: missing, duplicates with the same
//! `Idempotency-Key` (allowed: the receiver can drop them), duplicates with a different key (a
//! second notification for the same thing: not allowed) and anything else (a false alert).

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dsguard_sim::faults::FaultConfig;
use tokio::sync::mpsc;

use super::{Post, hook, start_dsguard, write_config};

/// Nodes besides those that fail (each failure has a node of its own, so that the pages of two
/// failures cannot be taken for one).
const HEALTHY: usize = 2;
/// Scenario seconds from one node failure to the next.
const CYCLE: u64 = 14;
/// How long a node stays failed: its stranded page goes out about 8 s after the failure (5 s of
/// node-monitor grace, 2 s of stranded grace, a tick), its resolve right after the recovery.
const FAILED_FOR: u64 = 12;

/// What to do.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Name of the run (its directory under the temp dir).
    pub name: &'static str,
    /// How many `kill -9`s.
    pub kills: usize,
    /// How many node failures the scenario plays.
    pub failures: usize,
    /// API faults the simulator injects.
    pub faults: FaultConfig,
    /// Seed of the kill times (printed, to replay a run).
    pub seed: u64,
}

/// What a chaos run found.
#[derive(Debug, Default)]
pub struct Tally {
    /// Kills done, and how many of them right after "notification decided".
    pub kills: usize,
    /// Kills right after a decision.
    pub kills_after_decision: usize,
    /// Firings and resolves expected.
    pub expected: usize,
    /// Of those, received at least once.
    pub received: usize,
    /// Requests that repeated an `Idempotency-Key` already received.
    pub same_key_duplicates: usize,
    /// Expected notifications received under more than one key (extra keys counted).
    pub different_key_duplicates: usize,
    /// Expected notifications never received.
    pub missing: Vec<(String, String, String)>,
    /// Alerts received that no failure explains.
    pub false_alerts: Vec<(String, String, String)>,
    /// API faults the simulator injected (5xx, cut bodies, expired watches).
    pub faults: u64,
    /// Requests the receiver got.
    pub requests: usize,
    /// How long the run took.
    pub elapsed: Duration,
}

impl Tally {
    /// Counts what `posts` hold against `expected`.
    pub fn count(posts: &[Post], expected: &BTreeSet<(String, String, String)>) -> Self {
        let mut keys: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
        let mut seen_keys = BTreeSet::new();
        let mut tally = Tally {
            expected: expected.len(),
            requests: posts.len(),
            ..Tally::default()
        };
        for post in posts {
            if !seen_keys.insert(post.key.clone()) {
                tally.same_key_duplicates += 1;
            }
            for alert in post.alerts() {
                if expected.contains(&alert) {
                    keys.entry(alert).or_default().insert(post.key.clone());
                } else {
                    tally.false_alerts.push(alert);
                }
            }
        }
        tally.received = keys.len();
        tally.different_key_duplicates = keys.values().map(|k| k.len() - 1).sum();
        tally.missing = expected
            .iter()
            .filter(|e| !keys.contains_key(*e))
            .cloned()
            .collect();
        tally
    }

    /// One line of totals.
    pub fn summary(&self) -> String {
        format!(
            "kills {} ({} right after a decision), API faults {}, notifications expected {}, received {}, \
             requests {}, duplicates with the same key {}, duplicates with a different key {}, missing {}, \
             false alerts {}, in {:.0?}",
            self.kills,
            self.kills_after_decision,
            self.faults,
            self.expected,
            self.received,
            self.requests,
            self.same_key_duplicates,
            self.different_key_duplicates,
            self.missing.len(),
            self.false_alerts.len(),
            self.elapsed
        )
    }
}

fn failed_node(i: usize) -> String {
    format!("worker-{}", i + 1)
}

/// The scenario: `failures` nodes fail one after the other, each for [`FAILED_FOR`].
fn scenario(failures: usize) -> String {
    let mut timeline = String::new();
    for i in 0..failures {
        let at = 3 + CYCLE * i as u64;
        let node = failed_node(i);
        timeline.push_str(&format!(
            "  - {{ at: {at}s, fail_node: {node} }}\n  - {{ at: {}s, recover_node: {node} }}\n",
            at + FAILED_FOR
        ));
    }
    format!(
        "name: chaos\ndescription: Nodes fail and recover one after the other.\n\
         settings: {{ node_monitor_grace: 5s, node_status_interval: 1s, pod_start_delay: 1s, pod_ready_delay: 1s, duration: {}s }}\n\
         nodes:\n  - {{ name: worker, count: {} }}\n\
         daemonsets:\n  - {{ name: agent, namespace: kube-system }}\n\
         timeline:\n{timeline}",
        scenario_span(failures).as_secs() + 600,
        failures + HEALTHY
    )
}

/// From the start to the last recovery.
fn scenario_span(failures: usize) -> Duration {
    Duration::from_secs(3 + CYCLE * failures.saturating_sub(1) as u64 + FAILED_FOR)
}

/// What the scenario must page: a firing and a resolve of each failed node.
fn expected(failures: usize) -> BTreeSet<(String, String, String)> {
    (0..failures)
        .flat_map(|i| {
            ["firing", "resolved"].map(|status| {
                (
                    "DaemonSetPodsStranded".to_owned(),
                    failed_node(i),
                    status.to_owned(),
                )
            })
        })
        .collect()
}

/// xorshift64*: the kill times need to vary, not to be unpredictable.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }
}

/// Forwards the "notification decided" lines of a child's stderr.
fn watch_decisions(child: &mut std::process::Child) -> mpsc::UnboundedReceiver<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    let stderr = child.stderr.take().expect("stderr is piped");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("notification decided") && tx.send(()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Plays `plan`: starts the simulation and dsguard, kills and restarts dsguard `plan.kills`
/// times, then lets the last one run until every expected notification arrived (or a deadline
/// passed) and counts what the receiver got.
pub async fn run(plan: &Plan) -> Tally {
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("dsguard-{}-{}", plan.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("state")).unwrap();
    let scenario = dsguard_sim::testing::scenario(&scenario(plan.failures));
    let mut options = dsguard_sim::testing::options(1.0);
    options.faults = plan.faults.clone();
    let sim = dsguard_sim::testing::start(scenario, options).await;
    let kubeconfig = dir.join("kubeconfig");
    dsguard_sim::kubeconfig::write(&kubeconfig, &sim.url()).unwrap();
    let (url, received) = hook().await;
    let config = dir.join("dsguard.yaml");
    write_config(&config, &dir.join("state"), &url);

    let (mut kills, mut kills_after_decision) = (0, 0);
    let mut rng = Rng(plan.seed | 1);
    // Spread the kills over the scenario; a decision cuts the wait short.
    let span = scenario_span(plan.failures);
    let mean_ms = (span.as_millis() as u64 / plan.kills.max(1) as u64).max(600);
    while kills < plan.kills {
        let mut dsguard = start_dsguard(&config, &kubeconfig, Some("warn,dsguard::app=info"));
        let mut decided = watch_decisions(&mut dsguard.0);
        let wait = Duration::from_millis(300 + rng.below(2 * mean_ms - 600));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            Some(()) = decided.recv() => kills_after_decision += 1,
        }
        dsguard.0.kill().unwrap(); // SIGKILL
        dsguard.0.wait().unwrap();
        kills += 1;
    }
    let last = start_dsguard(&config, &kubeconfig, None);
    let expected = expected(plan.failures);
    let deadline = Instant::now().max(started + span) + Duration::from_secs(30);
    let all_in = || {
        Tally::count(&received.lock().unwrap(), &expected)
            .missing
            .is_empty()
    };
    while !all_in() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A little longer, for anything that would arrive twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let counts = &sim.faults.counts;
    let faults = counts.errors.load(Ordering::Relaxed)
        + counts.truncated.load(Ordering::Relaxed)
        + counts.expired.load(Ordering::Relaxed);
    let posts = received.lock().unwrap().clone();
    drop(last);
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Tally {
        kills,
        kills_after_decision,
        faults,
        elapsed: started.elapsed(),
        ..Tally::count(&posts, &expected)
    }
}
