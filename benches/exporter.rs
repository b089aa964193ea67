//! dsguard against the simulator's generated clusters (1,000, 2,000 and 5,000 nodes × 20
//! DaemonSets), each in its own process, through the real path (HTTP list and watch, the kube
//! client), beside a bare client that pages the same lists in this process and parses them into
//! slim structs of its own (`exporter/bare.rs`), alternating, against the same simulator.
//!
//! Prints, per size: the bare time and dsguard's time from start to ready and their ratio
//! (target ≤ 1.5), dsguard's CPU time, resident memory once ready (target ≤ 64 MiB at 5,000),
//! the cost per daemon pod in µs and bytes, the list path's throughput beside plain
//! `serde_json::Value` parsing of the same bytes (target ≥ 50 %), the growth between sizes; at
//! the largest size, the time to render `/metrics` (target ≤ 20 ms).
//!
//! Run: `cargo bench --bench exporter`. `DSGUARD_BENCH_NODES=5000` picks the sizes;
//! `DSGUARD_BENCH_BIN=path/to/dsguard` measures another build of dsguard (an earlier commit's)
//! against the same simulator and yardstick.

#[path = "exporter/bare.rs"]
mod bare;
mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Killed, cpu_time, dsguard_bin, free_port, get, median, start_sim, status_kib};

const DAEMONSETS: usize = 20;
const RUNS: usize = 3;
const RENDERS: usize = 20;

/// One size's figures (medians of [`RUNS`]).
struct Figures {
    nodes: usize,
    pods: usize,
    objects: usize,
    bytes: usize,
    bare: Duration,
    ready: Duration,
    cpu: Duration,
    rss_kib: u64,
    peak_kib: u64,
    value_mbps: f64,
    slim_mbps: f64,
    /// The `/metrics` and `/api/v1/coverage` figures (largest size only).
    scrapes: Vec<String>,
}

fn kube_client(runtime: &tokio::runtime::Runtime, kubeconfig: &std::path::Path) -> kube::Client {
    runtime.block_on(async {
        let config = kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::read_from(kubeconfig).unwrap(),
            &Default::default(),
        )
        .await
        .unwrap();
        kube::Client::try_from(config).unwrap()
    })
}

/// Starts `dsguard run`; waits until ready. The process, its address, the time to ready and the
/// CPU time it used to get there.
fn start_dsguard(kubeconfig: &std::path::Path) -> (Killed, SocketAddr, Duration, Duration) {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let started = Instant::now();
    let dsguard = Killed(
        Command::new(dsguard_bin())
            .args(["run", "--listen", &addr.to_string(), "--kubeconfig"])
            .arg(kubeconfig)
            .env("DSGUARD__LOG__LEVEL", "warn")
            .spawn()
            .expect("start dsguard"),
    );
    let ready = support::wait_ready(addr, started, Duration::from_secs(300));
    let cpu = cpu_time(dsguard.0.id());
    (dsguard, addr, ready, cpu)
}

fn measure(runtime: &tokio::runtime::Runtime, nodes: usize, last: bool) -> Figures {
    let dir = std::env::temp_dir().join(format!("dsguard-bench-{}-{nodes}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = format!("nodes={nodes},daemonsets={DAEMONSETS}");
    let sim = start_sim(&dir, &["--generate", &spec]);
    // Let the generated cluster's pods start before anyone lists them.
    std::thread::sleep(Duration::from_secs(5));
    let client = kube_client(runtime, &sim.kubeconfig);
    let (mut bare, mut ready, mut cpu, mut rss, mut peak) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut listing = None;
    let mut scrapes = Vec::new();
    for run in 0..RUNS {
        let listed = runtime.block_on(bare::list(&client));
        bare.push(listed.time);
        listing = Some(listed);
        let (dsguard, addr, to_ready, cpu_used) = start_dsguard(&sim.kubeconfig);
        ready.push(to_ready);
        cpu.push(cpu_used);
        std::thread::sleep(Duration::from_secs(2));
        let pid = dsguard.0.id();
        rss.push(status_kib(pid, "VmRSS:"));
        peak.push(status_kib(pid, "VmHWM:"));
        if last && run == RUNS - 1 {
            scrapes = scrape(addr);
        }
    }
    let listing = listing.unwrap();
    let (value_mbps, slim_mbps) = bare::parse_throughput(&listing.pages);
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
    Figures {
        nodes,
        pods: listing.pods,
        objects: listing.objects,
        bytes: listing.bytes,
        bare: median(bare),
        ready: median(ready),
        cpu: median(cpu),
        rss_kib: median(rss),
        peak_kib: median(peak),
        value_mbps,
        slim_mbps,
        scrapes,
    }
}

/// `/metrics` in both formats, and `/api/v1/coverage`, from a ready dsguard: the lines to print.
fn scrape(addr: SocketAddr) -> Vec<String> {
    let mut lines = Vec::new();
    for (format, accept) in [
        ("OpenMetrics", "application/openmetrics-text"),
        ("Prometheus text", "text/plain"),
    ] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..RENDERS {
            let t = Instant::now();
            let (status, body) = get(addr, "/metrics", accept).expect("scrape");
            times.push(t.elapsed());
            assert_eq!(status, 200);
            bytes = body.len();
        }
        lines.push(format!(
            "  GET /metrics ({format:<15}) median of {RENDERS}: {:>7.2} ms ({} KiB; target <= 20 ms)",
            median(times).as_secs_f64() * 1e3,
            bytes / 1024
        ));
    }
    let t = Instant::now();
    let (_, coverage) = get(addr, "/api/v1/coverage", "application/json").expect("coverage");
    lines.push(format!(
        "  GET /api/v1/coverage:                    {:>7.2} ms ({} KiB)",
        t.elapsed().as_secs_f64() * 1e3,
        coverage.len() / 1024
    ));
    lines
}

fn print(f: &Figures) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let list_mbps = f.bytes as f64 / 1e6 / f.ready.as_secs_f64();
    println!(
        "{} nodes x {DAEMONSETS} DaemonSets: {} objects, {} daemon pods, {:.1} MB listed (medians of {RUNS})",
        f.nodes,
        f.objects,
        f.pods,
        f.bytes as f64 / 1e6
    );
    println!(
        "  bare list and parse (slim serde structs): {:>7.0} ms",
        ms(f.bare)
    );
    println!(
        "  dsguard start to ready:                  {:>7.0} ms (CPU {:.0} ms); ratio {:.2} (target <= 1.5)",
        ms(f.ready),
        ms(f.cpu),
        f.ready.as_secs_f64() / f.bare.as_secs_f64()
    );
    println!(
        "  dsguard resident memory once ready:      {:>7.1} MiB (peak {:.1}; target <= 64)",
        mib(f.rss_kib),
        mib(f.peak_kib)
    );
    println!(
        "  per daemon pod: {:.1} µs to ready, {:.0} B resident",
        ms(f.ready) * 1e3 / f.pods as f64,
        f.rss_kib as f64 * 1024.0 / f.pods as f64
    );
    println!(
        "  throughput: dsguard's list path {list_mbps:.1} MB/s; on the same pod pages, parse only: \
         serde_json::Value {:.1} MB/s, slim structs {:.1} MB/s; dsguard / Value {:.0} % (target >= 50 %)",
        f.value_mbps,
        f.slim_mbps,
        100.0 * list_mbps / f.value_mbps
    );
    for line in &f.scrapes {
        println!("{line}");
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; this one only runs on purpose.
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sizes: Vec<usize> = std::env::var("DSGUARD_BENCH_NODES")
        .unwrap_or_else(|_| "1000,2000,5000".into())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("DSGUARD_BENCH_NODES: a list of node counts")
        })
        .collect();
    println!("dsguard measured: {}", dsguard_bin().display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut all = Vec::new();
    for (i, &nodes) in sizes.iter().enumerate() {
        let figures = measure(&runtime, nodes, i + 1 == sizes.len());
        print(&figures);
        all.push(figures);
    }
    if let (Some(small), Some(large)) = (all.first(), all.last()) {
        let pods = (large.pods - small.pods) as f64;
        if pods > 0.0 {
            println!(
                "growth from {} to {} nodes: {:.1} µs and {:.0} B resident per added daemon pod",
                small.nodes,
                large.nodes,
                (large.ready.as_secs_f64() - small.ready.as_secs_f64()) * 1e6 / pods,
                (large.rss_kib as f64 - small.rss_kib as f64) * 1024.0 / pods
            );
        }
    }
}
