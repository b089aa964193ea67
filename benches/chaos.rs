//! The long chaos run: `dsguard run` is `kill -9`ed 100 times, at random and right after it
//! decides a notification, while the simulator plays twenty node failures and injects API faults
//! (5xx answers to 40 % of requests, watches dropped every half second); prints the totals.
//! `tests/chaos.rs` is the short version CI runs.
//!
//! ```text
//! cargo bench --bench chaos
//! ```

// The harness is the one of the end-to-end tests; a bench cannot `mod` a file of `tests/`
// otherwise.
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::chaos::{Plan, run};
use dsguard_sim::duration::Dur;
use dsguard_sim::faults::FaultConfig;

fn main() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let plan = Plan {
        name: "chaos-bench",
        kills: 100,
        failures: 20,
        faults: FaultConfig {
            error_rate: 0.4,
            drop_watches_after: Some(Dur(Duration::from_millis(500))),
            ..FaultConfig::default()
        },
        seed,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let tally = runtime.block_on(run(&plan));
    println!("chaos (seed {seed}): {}", tally.summary());
    println!("  notifications expected          {}", tally.expected);
    println!("  received                        {}", tally.received);
    println!(
        "  duplicates with the same key    {}",
        tally.same_key_duplicates
    );
    println!(
        "  duplicates with a different key {}",
        tally.different_key_duplicates
    );
    println!("  missing                         {}", tally.missing.len());
    println!(
        "  false alerts                    {}",
        tally.false_alerts.len()
    );
    println!("  API faults injected             {}", tally.faults);
    println!(
        "  kills                           {} ({} right after a decision)",
        tally.kills, tally.kills_after_decision
    );
    if !tally.missing.is_empty() || !tally.false_alerts.is_empty() {
        println!("  missing: {:?}", tally.missing);
        println!("  false alerts: {:?}", tally.false_alerts);
    }
}
