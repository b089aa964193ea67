//! The long failover run: ten rounds of two `dsguard run` replicas (leader election on) against
//! `dsguard sim` and one webhook receiver; in each, the leader is `kill -9`ed at a random moment
//! of a node's incident. Prints each round and the totals (pages, duplicates with a different
//! `Idempotency-Key`, lost resolves, slowest takeover). `tests/ha_failover.rs` runs two rounds.
//!
//! ```text
//! cargo bench --bench failover
//! ```

// The harness is the one of the end-to-end tests; a bench cannot `mod` a file of `tests/`
// otherwise.
#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let rounds = runtime.block_on(common::failover::rounds("failover-bench", 10, seed));
    let bad: usize = rounds
        .iter()
        .map(|r| r.duplicates() + r.lost_resolves())
        .sum();
    if bad > 0 {
        eprintln!("failover: {bad} duplicates or lost resolves");
        std::process::exit(1);
    }
}
