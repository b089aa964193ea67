//! dsguard against the simulated cluster, in one process: the harness that `dsguard demo`, the
//! end-to-end tests and the benchmarks share (feature `sim`).
//!
//! [`Dsguard::start`] runs the real wiring (`app::run`) against a running
//! [`dsguard_sim::Simulation`] through the real kube client over HTTP, with the simulator's clock
//! (which runs faster than real time) as dsguard's clock, so both agree on what "now" is.
//! Several may watch one simulation, and one may be stopped and started again on it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use dsguard_sim::Simulation;
use dsguard_sim::clock::SimClock;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::app::{self, Wiring};
use crate::base::{Clock, Timestamp};
use crate::coverage::Transition;
use crate::notification::Notification;
use crate::settings::Settings;

/// The simulator's clock as dsguard's: scenario time, running at the simulation's speed.
#[derive(Clone, Debug)]
pub struct ScenarioClock(pub SimClock);

impl Clock for ScenarioClock {
    fn now(&self) -> Timestamp {
        self.0.now()
    }

    fn real_duration(&self, span: jiff::SignedDuration) -> std::time::Duration {
        self.0
            .wall_duration(std::time::Duration::try_from(span).unwrap_or_default())
    }
}

/// What to attach to a started dsguard besides the simulation; all optional.
#[derive(Debug, Default)]
pub struct Attach {
    /// Serve HTTP on this listener (default: a free loopback port).
    pub listener: Option<TcpListener>,
    /// Receives every cell transition.
    pub transitions: Option<broadcast::Sender<Transition>>,
    /// Receives every notification the alert engine decides, as the dispatcher would; nothing
    /// it gets counts as held (see [`Wiring::notifications`]).
    pub notifications: Option<mpsc::Sender<Notification>>,
}

/// A kube client for the simulated API server.
pub fn client(sim: &Simulation) -> anyhow::Result<kube::Client> {
    let url = sim.url().parse().context("the simulator's URL")?;
    kube::Client::try_from(kube::Config::new(url)).context("a client for the simulator")
}

/// A running dsguard (`app::run`) watching a simulation.
#[derive(Debug)]
pub struct Dsguard {
    /// Where it serves `/metrics`, `/readyz` and `/api/v1`.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Dsguard {
    /// Starts dsguard with `settings` against `sim`.
    pub async fn start(
        sim: &Simulation,
        settings: Settings,
        attach: Attach,
    ) -> anyhow::Result<Self> {
        let listener = match attach.listener {
            Some(listener) => listener,
            None => TcpListener::bind("127.0.0.1:0").await?,
        };
        let addr = listener.local_addr()?;
        let wiring = Wiring {
            client: client(sim)?,
            clock: Arc::new(ScenarioClock(sim.store.clock().clone())),
            listener,
            transitions: attach.transitions,
            notifications: attach.notifications,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app::run(settings, wiring, async {
            let _ = stopped.await;
        }));
        Ok(Self { addr, stop, task })
    }

    /// Runs until `end` resolves, then stops it; or returns at once if it stops on its own (a
    /// task failed), with the error.
    pub async fn run_until(mut self, end: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::select! {
            () = end => self.stop().await,
            ended = &mut self.task => ended.context("the dsguard task panicked")?,
        }
    }

    /// Stops it as SIGTERM would (notifications drained, state saved) and returns how it ended.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("the dsguard task panicked")?
    }
}
