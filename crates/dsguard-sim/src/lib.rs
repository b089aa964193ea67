//! A simulated Kubernetes API server that plays node-failure scenarios (`dsguard sim`).
//!
//! ```text
//!  scenario YAML ─▶ scenario.rs ─▶ engine.rs ──(controllers/: node lifecycle, scheduler,
//!  (or generate.rs)                   │          kubelet, DaemonSet controller, pod GC)
//!                                     ▼ writes
//!                                 store.rs  (objects as JSON, resourceVersion, change history)
//!                                     ▲ reads, watches, writes
//!  kube crate / kubectl ──HTTP──▶ server/ (discovery, list, watch, get, create, update, patch,
//!                                 delete; Status errors; Tables)  wrapped by faults.rs
//! ```
//!
//! The controllers are written for the simulator alone and this crate depends on nothing of
//! dsguard, so the simulator serves as an independent oracle for dsguard's evaluation. Entry
//! points: [`run`] for the command line (`dsguard sim`), [`Simulation::start`] for `dsguard demo`,
//! tests and benchmarks, and [`testing`] for the helpers tests share.

#![forbid(unsafe_code)]

pub mod clock;
pub mod controllers;
pub mod duration;
pub mod engine;
pub mod faults;
pub mod generate;
pub mod kinds;
pub mod kubeconfig;
pub mod objects;
pub mod scenario;
pub mod selectors;
pub mod server;
pub mod status;
pub mod store;
pub mod testing;
pub mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use self::duration::Dur;
use self::faults::{FaultConfig, Faults};
use self::scenario::Scenario;
use self::server::{AppState, ServerHandle, ServerSettings};
use self::store::Store;

/// Changes kept for watches to resume from; older versions get 410. A 5,000-node cluster
/// whose kubelets post status every minute makes about 80 changes a second, so this covers
/// about four minutes of it (the real server keeps about five minutes of etcd history), for
/// about 60 MB (entries share the stored objects; a replaced version stays until it leaves).
pub const DEFAULT_HISTORY: usize = 20_000;

/// The scenario `dsguard demo` plays unless told otherwise: a node fails, its replacement joins,
/// and one DaemonSet cannot start there for lack of CPU.
pub const DEMO_SCENARIO: &str = include_str!("../scenarios/demo.yaml");

/// Errors of the simulator's entry points.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario cannot be used.
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    /// `--generate` cannot be read.
    #[error(transparent)]
    Generate(#[from] generate::GenerateError),
    /// Neither `--scenario` nor `--generate` was given.
    #[error("give --scenario FILE or --generate nodes=N,daemonsets=M")]
    NoScenario,
    /// The cluster cannot be built.
    #[error("cannot build the scenario's cluster: {0}")]
    Bootstrap(#[source] status::ApiError),
    /// Listening or writing the kubeconfig failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

/// Command-line arguments of `dsguard sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Scenario file (YAML) to play.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Generate a large scenario instead, e.g. `nodes=5000,daemonsets=20,fail=10`.
    #[arg(long, value_name = "SPEC", conflicts_with = "scenario")]
    pub generate: Option<String>,
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Scenario seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Write a kubeconfig pointing at the server to this file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Only check the scenario file and exit.
    #[arg(long)]
    pub check: bool,
    /// Changes kept for watches to resume from.
    #[arg(long, default_value_t = DEFAULT_HISTORY)]
    pub history: usize,
    /// Real time between watch bookmarks.
    #[arg(long, default_value = "60s")]
    pub bookmark_interval: Dur,
    /// Fault: end every watch after this real time.
    #[arg(long)]
    pub drop_watches_after: Option<Dur>,
    /// Fault: probability of a 500 answer.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Fault: delay before every answer.
    #[arg(long)]
    pub latency: Option<Dur>,
    /// Fault: probability that a (non-watch) response body is cut short.
    #[arg(long, default_value_t = 0.0)]
    pub truncate_rate: f64,
    /// Fault: answer the first N watches with 410 Expired.
    #[arg(long, default_value_t = 0)]
    pub expire_watches: u32,
}

/// Options of a simulation started from code.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Scenario seconds per real second.
    pub speed: f64,
    /// Changes kept for watches.
    pub history: usize,
    /// HTTP server settings.
    pub server: ServerSettings,
    /// Faults from the start.
    pub faults: FaultConfig,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            speed: 1.0,
            history: DEFAULT_HISTORY,
            server: ServerSettings::default(),
            faults: FaultConfig::default(),
        }
    }
}

/// A running simulation: the API server and the scenario engine.
#[derive(Debug)]
pub struct Simulation {
    /// The object store (tests read it to compare with what clients saw).
    pub store: Arc<Store>,
    /// The live fault settings.
    pub faults: Arc<Faults>,
    server: ServerHandle,
    engine: tokio::task::JoinHandle<()>,
}

impl Simulation {
    /// Builds the scenario's cluster, then serves it on `listener` and starts playing the
    /// timeline (scenario time zero is the moment this returns, give or take the build).
    pub async fn start(
        scenario: Scenario,
        listener: tokio::net::TcpListener,
        options: SimOptions,
    ) -> Result<Simulation, SimError> {
        let clock = clock::SimClock::new(options.speed);
        let store = Arc::new(Store::new(clock, options.history));
        let faults = Arc::new(Faults::new(options.faults));
        let mut engine = engine::Engine::new(store.clone(), faults.clone(), scenario);
        let engine = tokio::task::spawn_blocking(move || engine.bootstrap().map(|()| engine))
            .await
            .map_err(|e| SimError::Io {
                what: "bootstrap task".into(),
                source: std::io::Error::other(e),
            })?
            .map_err(SimError::Bootstrap)?;
        let state = AppState::new(store.clone(), faults.clone(), options.server);
        let server = server::serve(listener, state)
            .await
            .map_err(|source| SimError::Io {
                what: "cannot serve".into(),
                source,
            })?;
        let engine = tokio::spawn(engine.run());
        Ok(Simulation {
            store,
            faults,
            server,
            engine,
        })
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Scenario time elapsed.
    pub fn elapsed(&self) -> std::time::Duration {
        self.store.clock().elapsed()
    }

    /// Stops the engine and the server (open watches end).
    pub async fn stop(self) {
        self.engine.abort();
        self.server.stop().await;
    }
}

fn load(args: &SimArgs) -> Result<Scenario, SimError> {
    match (&args.scenario, &args.generate) {
        (Some(path), _) => Ok(Scenario::from_file(path)?),
        (None, Some(spec)) => Ok(generate::generate(&spec.parse()?)),
        (None, None) => Err(SimError::NoScenario),
    }
}

/// Runs `dsguard sim` until Ctrl-C or SIGTERM.
pub fn run(args: SimArgs) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // Colour codes only for a terminal, not for a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init();
    let scenario = load(&args)?;
    if args.check {
        println!(
            "scenario `{}` is valid: {} nodes, {} DaemonSets, {} steps",
            scenario.name,
            scenario.initial_nodes().len(),
            scenario.daemonsets.len(),
            scenario.timeline.len()
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve_until_signal(args, scenario))
}

async fn serve_until_signal(args: SimArgs, scenario: Scenario) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimError::Io {
            what: format!("cannot listen on {}", args.listen),
            source,
        })?;
    let options = SimOptions {
        speed: args.speed,
        history: args.history,
        server: ServerSettings {
            bookmark_interval: args.bookmark_interval.0,
            ..ServerSettings::default()
        },
        faults: FaultConfig {
            drop_watches_after: args.drop_watches_after,
            error_rate: args.error_rate,
            latency: args.latency,
            truncate_rate: args.truncate_rate,
            expire_next_watches: args.expire_watches,
            fail_next_requests: 0,
        },
    };
    let name = scenario.name.clone();
    let simulation = Simulation::start(scenario, listener, options).await?;
    if let Some(path) = &args.kubeconfig_out {
        kubeconfig::write(path, &simulation.url()).map_err(|source| SimError::Io {
            what: format!("cannot write {}", path.display()),
            source,
        })?;
    }
    tracing::info!(url = %simulation.url(), scenario = %name, speed = args.speed, "simulated API server ready");
    println!(
        "dsguard sim: serving scenario `{name}` at {}",
        simulation.url()
    );
    shutdown_signal().await;
    simulation.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
