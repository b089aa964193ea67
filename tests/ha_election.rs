//! Two leader elections against the simulated API server over HTTP, through the real `kube`
//! client: one leader at a time; when the leader is cut off from the API server (a proxy in
//! front of it stops answering) it stops acting at its renew deadline, and the other replica
//! takes the Lease only after it expired. Both flags are sampled every 50 ms throughout: never
//! two acting leaders.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dsguard::base::{Clock, Duration as SettingsDuration, SystemClock};
use dsguard::cluster::{Elector, HaSettings, Leadership};
use dsguard_sim::testing::{options, scenario, start};
use jiff::SignedDuration;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const CLUSTER: &str = "
name: ha
nodes:
  - { name: w, count: 1 }
daemonsets:
  - { name: log-agent, namespace: dsg }
";

/// Short timings so that the test runs in seconds; the same ratios as the defaults' 15/10/2.
fn settings() -> HaSettings {
    let ms = |n| SettingsDuration(SignedDuration::from_millis(n));
    let settings = HaSettings {
        enabled: true,
        namespace: Some("dsg".into()),
        lease_duration: ms(3000),
        renew_deadline: ms(2000),
        retry_period: ms(400),
        ..HaSettings::default()
    };
    settings.validate().expect("valid timings");
    settings
}

/// A TCP proxy to the simulator that can be cut: once cut, it closes the connections it
/// carries and accepts new ones without ever answering, like a partitioned network.
struct Proxy {
    url: String,
    cut: Arc<AtomicBool>,
}

async fn proxy(upstream: std::net::SocketAddr) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let cut = Arc::new(AtomicBool::new(false));
    let flag = cut.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            if flag.load(Ordering::SeqCst) {
                held.push(inbound);
                continue;
            }
            let flag = flag.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                    return;
                };
                let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                tokio::pin!(copy);
                loop {
                    tokio::select! {
                        _ = &mut copy => return,
                        () = tokio::time::sleep(Duration::from_millis(20)) => {
                            if flag.load(Ordering::SeqCst) {
                                // Dropping both sockets cuts the connection.
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Proxy { url, cut }
}

fn client(url: &str) -> kube::Client {
    kube::Client::try_from(kube::Config::new(url.parse().expect("url"))).expect("client")
}

fn elect(url: &str, identity: &str) -> (watch::Receiver<Leadership>, tokio::task::JoinHandle<()>) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (elector, leadership) =
        Elector::new(client(url), &settings(), "dsg", identity.into(), clock);
    (leadership, tokio::spawn(elector.run()))
}

/// A replica that never leads, to sample one election alone.
fn nobody() -> watch::Receiver<Leadership> {
    watch::channel(Leadership::default()).1
}

/// Samples both flags every 50 ms until `done` holds (panics after `limit`, or if both lead at
/// once); returns the samples: (time since the first, a leads, b leads).
async fn sample(
    a: &watch::Receiver<Leadership>,
    b: &watch::Receiver<Leadership>,
    limit: Duration,
    done: impl Fn(bool, bool) -> bool,
) -> Vec<(Duration, bool, bool)> {
    let started = Instant::now();
    let mut samples = Vec::new();
    loop {
        let (la, lb) = (a.borrow().leading, b.borrow().leading);
        samples.push((started.elapsed(), la, lb));
        assert!(!(la && lb), "two acting leaders at {:?}", started.elapsed());
        if done(la, lb) {
            return samples;
        }
        assert!(
            started.elapsed() < limit,
            "not done within {limit:?}: a={la} b={lb}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_stops_acting_before_the_other_takes_the_lease() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let to_a = proxy(sim.addr()).await;
    let (a, _a_task) = elect(&to_a.url, "dsguard-a");
    sample(&a, &nobody(), Duration::from_secs(5), |la, _| la).await;
    let (b, _b_task) = elect(&sim.url(), "dsguard-b");
    // b follows: it sees a's live Lease and never leads while a renews.
    let followed = sample(&a, &b, Duration::from_secs(3), |_, _| false);
    let followed = tokio::time::timeout(Duration::from_secs(2), followed).await;
    assert!(
        followed.is_err(),
        "sampling went on for 2 s without a second leader"
    );
    assert_eq!(b.borrow().holder.as_deref(), Some("dsguard-a"));

    let cut_at = Instant::now();
    to_a.cut.store(true, Ordering::SeqCst);
    let samples = sample(&a, &b, Duration::from_secs(10), |_, lb| lb).await;
    let stepped_down = samples.iter().find(|(_, la, _)| !la).map(|s| s.0);
    let took_over = samples.last().map(|s| s.0).expect("samples");
    let stepped_down = stepped_down.expect("a stepped down");
    println!(
        "cut at 0; a stopped acting at {stepped_down:?}, b acquired at {took_over:?} (renew deadline 2 s, lease 3 s, retry 0.4 s)"
    );
    // a renewed last before the cut: it acts at most renew_deadline (2 s) after the cut, and b
    // takes over at the earliest lease_duration (3 s) after that renewal, at the latest one
    // retry period after the expiry.
    assert!(
        stepped_down <= Duration::from_millis(2500),
        "a acts until its renew deadline only: {stepped_down:?}"
    );
    assert!(
        took_over - stepped_down >= Duration::from_millis(500),
        "b waits for the lease to expire, a second after a stopped: {took_over:?}"
    );
    assert!(took_over <= Duration::from_millis(3000 + 2 * 400 + 500));
    assert!(cut_at.elapsed() < Duration::from_secs(6));

    // a comes back: it follows b and never leads again while b renews.
    to_a.cut.store(false, Ordering::SeqCst);
    let back = sample(&a, &b, Duration::from_secs(5), |_, _| false);
    assert!(
        tokio::time::timeout(Duration::from_secs(2), back)
            .await
            .is_err()
    );
    let leases: Api<Lease> = Api::namespaced(client(&sim.url()), "dsg");
    let lease = leases.get("dsguard").await.expect("the lease");
    let spec = lease.spec.expect("spec");
    assert_eq!(spec.holder_identity.as_deref(), Some("dsguard-b"));
    assert_eq!(spec.lease_transitions, Some(1));
    assert_eq!(spec.lease_duration_seconds, Some(3));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leader_stops_renewing_the_other_acquires_after_expiry() {
    let sim = start(scenario(CLUSTER), options(1.0)).await;
    let (a, a_task) = elect(&sim.url(), "dsguard-a");
    sample(&a, &nobody(), Duration::from_secs(5), |la, _| la).await;
    let (b, _b_task) = elect(&sim.url(), "dsguard-b");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!b.borrow().leading);
    // The leader's process dies: no renewals, no step-down either.
    a_task.abort();
    let killed = Instant::now();
    sample(&nobody(), &b, Duration::from_secs(8), |_, lb| lb).await;
    let took = killed.elapsed();
    println!("leader killed; the other acquired after {took:?} (lease 3 s, retry 0.4 s)");
    assert!(
        took >= Duration::from_millis(1900),
        "not before the lease expired: {took:?}"
    );
    assert!(
        took <= Duration::from_millis(3000 + 2 * 400 + 500),
        "{took:?}"
    );
    sim.stop().await;
}
