//! Coverage evaluation at 5,000 nodes x 20 DaemonSets (100,000 cells, ~70,000 daemon pods).
//!
//! Run: `cargo bench --bench coverage`. Figures: `full_evaluation` re-evaluates every cell from
//! the stored objects (target under 50 ms); `load_from_scratch` builds the model from the
//! objects as a first list would; `node_event` / `pod_event` apply one watch event (target under
//! 20 µs median); `idle_tick` is the timer check with nothing due.
//!
//! Before the timings it prints the memory the engine holds once built: the live heap bytes
//! (counted by a wrapper around the system allocator) plus the model's own inline size, split
//! into the slim objects it stores and the engine's own structures (cells, indexes, vectors),
//! per cell and per pod.

use divan::Bencher;
use dsguard::base::Timestamp;
use dsguard::cluster::TaintEffect::{NoExecute, NoSchedule};
use dsguard::cluster::build::{daemon_pod, daemonset, node, requirement, term};
use dsguard::cluster::{DaemonSetInfo, NodeInfo, PodInfo};
use dsguard::coverage::{CompiledPlacement, Coverage, Settings};
use jiff::SignedDuration;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

const NODES: usize = 5_000;
const DAEMONSETS: usize = 20;

/// Counts the live heap bytes, to tell what the model holds once built.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn main() {
    memory();
    divan::main();
}

/// Prints what the engine holds at 5,000 x 20 once every object is applied, and again once
/// trimmed as after a completed list: the live heap bytes it owns plus its inline size. The slim
/// objects' share is measured the same way on the input vectors (trimmed to their length, as
/// each object sits in one slot of the model); the rest is the engine's own structures. Of those,
/// the pods' share is what the model grows by while the pods are applied (each pod's object
/// moves in, so the growth is its slot, index and cell-list cost); what it held before, less the
/// objects, is the cells' share (cells, node slots and indexes).
fn memory() {
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    let start = live();
    let (nodes, daemonsets) = (nodes(), daemonsets());
    let mut pods = pods(&nodes, &daemonsets);
    pods.shrink_to_fit();
    let objects = live() - start;
    let pod_count = pods.len();
    let mut cov = Coverage::new(Settings::default());
    for ds in daemonsets {
        cov.apply_daemonset(ds, now());
    }
    for n in nodes {
        cov.apply_node(n, now());
    }
    cov.take_transitions();
    let before_pods = live();
    for p in pods {
        cov.apply_pod(p, now());
    }
    cov.take_transitions();
    let per_pod = (live() - before_pods) as f64 / pod_count as f64;
    let cells = NODES * DAEMONSETS;
    let report = |when: &str, cov: &Coverage| {
        let total = live() - start + std::mem::size_of_val(cov);
        let engine = total.saturating_sub(objects);
        println!(
            "memory at {NODES} nodes x {DAEMONSETS} DaemonSets ({cells} cells, {pod_count} pods), \
             {when}: engine holds {:.1} MiB = slim objects {:.1} MiB + engine structures \
             {:.1} MiB ({:.0} B per cell in all, {:.0} B per pod in all)",
            mib(total),
            mib(objects),
            mib(engine),
            engine as f64 / cells as f64,
            total as f64 / pod_count as f64,
        );
    };
    report("as loaded", &cov);
    println!(
        "  of the engine structures as loaded, per pod (slot, indexes, cell list): {per_pod:.0} B; \
         per cell (cells, node slots and the rest): {:.0} B",
        ((before_pods - start) as f64 - objects as f64) / cells as f64,
    );
    // What the model does when a list completes (`WatchEvent::Synced`).
    cov.shrink_to_fit();
    report("after shrink_to_fit", &cov);
}

fn now() -> Timestamp {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

/// A realistic mix: three zones, 5% GPU nodes tainted NoSchedule, 1% dead, 1% cordoned.
fn nodes() -> Vec<NodeInfo> {
    (0..NODES)
        .map(|i| {
            let zone = ["a", "b", "c"][i % 3];
            let mut n = node(&format!("node-{i:05}"))
                .labelled("topology.kubernetes.io/zone", zone)
                .labelled("kubernetes.io/os", "linux")
                .labelled("node-role", if i % 50 == 0 { "infra" } else { "worker" })
                .created_at(now() - SignedDuration::from_hours(24));
            if i % 20 == 7 {
                n = n.labelled("gpu", "true").tainted("gpu", NoSchedule);
            }
            if i % 100 == 13 {
                n = n
                    .unreachable()
                    .health_changed_at(now() - SignedDuration::from_mins(3));
            }
            if i % 100 == 29 {
                n = n.cordoned();
            }
            n
        })
        .collect()
}

/// Four kinds of DaemonSet: everywhere, by nodeSelector, by affinity, and plain.
fn daemonsets() -> Vec<DaemonSetInfo> {
    (0..DAEMONSETS)
        .map(|i| {
            let ds = daemonset("kube-system", &format!("agent-{i:02}"));
            match i % 4 {
                0 => ds.tolerates_everything(),
                1 => ds.node_selector("topology.kubernetes.io/zone", "a"),
                2 => ds.affinity(vec![
                    term(&[requirement(
                        "topology.kubernetes.io/zone",
                        "In",
                        &["a", "b"],
                    )]),
                    term(&[requirement("node-role", "In", &["infra"])]),
                ]),
                _ => ds
                    .tolerates("dedicated", "Equal", "infra", Some(NoExecute))
                    .host_network(),
            }
        })
        .collect()
}

/// A ready pod in every cell where the DaemonSet should run.
fn pods(nodes: &[NodeInfo], daemonsets: &[DaemonSetInfo]) -> Vec<PodInfo> {
    let mut pods = Vec::new();
    for ds in daemonsets {
        let placement = CompiledPlacement::compile(&ds.placement);
        for n in nodes {
            let p = placement.evaluate(n);
            if p.should_run || p.runs_when_node_ready {
                pods.push(
                    daemon_pod(ds, &n.name).ready_since(now() - SignedDuration::from_hours(1)),
                );
            }
        }
    }
    pods
}

fn load(nodes: Vec<NodeInfo>, daemonsets: Vec<DaemonSetInfo>, pods: Vec<PodInfo>) -> Coverage {
    let mut cov = Coverage::new(Settings::default());
    for ds in daemonsets {
        cov.apply_daemonset(ds, now());
    }
    for n in nodes {
        cov.apply_node(n, now());
    }
    for p in pods {
        cov.apply_pod(p, now());
    }
    cov.take_transitions();
    cov
}

fn cluster() -> (Coverage, Vec<NodeInfo>, Vec<PodInfo>) {
    let (nodes, daemonsets) = (nodes(), daemonsets());
    let pods = pods(&nodes, &daemonsets);
    (load(nodes.clone(), daemonsets, pods.clone()), nodes, pods)
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn full_evaluation(bencher: Bencher) {
    let (mut cov, _, _) = cluster();
    bencher.bench_local(|| {
        cov.recompute_all(now());
        cov.take_transitions()
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn load_from_scratch(bencher: Bencher) {
    let (nodes, daemonsets) = (nodes(), daemonsets());
    let pods = pods(&nodes, &daemonsets);
    bencher
        .with_inputs(|| (nodes.clone(), daemonsets.clone(), pods.clone()))
        .bench_local_values(|(n, d, p)| load(n, d, p));
}

/// One node flapping between Ready and unreachable: its whole row (20 cells) re-evaluated.
#[divan::bench(sample_count = 2_000)]
fn node_event(bencher: Bencher) {
    let (mut cov, nodes, _) = cluster();
    let healthy = nodes[4_242].clone();
    let dead = healthy.clone().unreachable().health_changed_at(now());
    let mut flip = false;
    bencher
        .with_inputs(|| {
            flip = !flip;
            if flip { dead.clone() } else { healthy.clone() }
        })
        .bench_local_values(|n| {
            cov.apply_node(n, now());
            cov.take_transitions()
        });
}

/// One daemon pod flapping between ready and crash-looping: one cell re-evaluated.
#[divan::bench(sample_count = 2_000)]
fn pod_event(bencher: Bencher) {
    let (mut cov, _, pods) = cluster();
    let ready = pods[31_337].clone();
    let crashing = ready.clone().crashing("CrashLoopBackOff");
    let mut flip = false;
    bencher
        .with_inputs(|| {
            flip = !flip;
            if flip {
                crashing.clone()
            } else {
                ready.clone()
            }
        })
        .bench_local_values(|p| {
            cov.apply_pod(p, now());
            cov.take_transitions()
        });
}

#[divan::bench(sample_count = 1_000)]
fn idle_tick(bencher: Bencher) {
    let (mut cov, _, _) = cluster();
    cov.tick(now());
    bencher.bench_local(|| cov.tick(now()));
}

/// Listing the gaps (done on every alert evaluation tick, scrape and API call).
#[divan::bench(sample_count = 50)]
fn gaps(bencher: Bencher) {
    let (cov, _, _) = cluster();
    bencher.bench_local(|| cov.gaps(now()));
}
