//! `dsguard demo`: a simulated cluster in which a node fails, and dsguard watching it, in one
//! process. Prints where to look (the status page), then every gap as it opens, turns
//! actionable and closes, every notification as it goes out, and at the end what happened to the
//! daemon pods of the failed node.

mod narrate;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use dsguard_sim::clock::SimClock;
use dsguard_sim::scenario::Scenario;
use dsguard_sim::{DEMO_SCENARIO, SimOptions, Simulation};
use tokio::sync::{broadcast, mpsc};

use crate::app;
use crate::base::Duration as SettingsDuration;
use crate::coverage::{CellState, Transition};
use crate::server::shutdown_signal;
use crate::settings::{LogSettings, Settings};
use crate::simulated::{Attach, Dsguard};

/// Arguments of `dsguard demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Scenario seconds per real second.
    #[arg(long, default_value_t = 10.0)]
    pub speed: f64,
    /// Where dsguard serves `/metrics` and `/api/v1`.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Play this scenario file instead of the embedded demo.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<std::path::PathBuf>,
    /// Keep serving after the scenario ends, until Ctrl-C.
    #[arg(long)]
    pub linger: bool,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> ExitCode {
    let settings = Settings {
        log: LogSettings {
            level: "warn".to_owned(),
            ..Default::default()
        },
        ..Default::default()
    };
    app::init_logging(&settings);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsguard demo: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(demo(args, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dsguard demo: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Grace periods short enough for the story to show gaps turning actionable.
const DEMO_GRACE: [(CellState, u64); 5] = [
    (CellState::Stranded, 30),
    (CellState::Missing, 60),
    (CellState::Pending, 45),
    (CellState::NotReady, 60),
    (CellState::Orphaned, 20),
];

/// Notifications waiting to be printed; the engine decides a handful per tick at most.
const NOTIFICATION_QUEUE: usize = 64;

/// The receiver the demo's route names: its notifications are printed, not sent.
const DEMO_RECEIVER: &str = "demo-printer";

/// A route that notifies soon enough for the 300 s story: the first page as soon as the alert
/// fires (its grace period already waited), a change of its group (a resolve) at most 20 s
/// later, no repeats within the story. worker-3's stranded alert fires 20 s before the node is
/// deleted; any group wait would eat into that.
fn demo_route(settings: &mut Settings) {
    let route = &mut settings.alerting.route;
    route.receiver = Some(DEMO_RECEIVER.to_owned());
    route.group_wait = Some(SettingsDuration(jiff::SignedDuration::ZERO));
    route.group_interval = Some(SettingsDuration(jiff::SignedDuration::from_secs(20)));
    route.repeat_interval = Some(SettingsDuration(jiff::SignedDuration::from_hours(1)));
}

async fn demo(args: DemoArgs, mut settings: Settings) -> anyhow::Result<()> {
    demo_route(&mut settings);
    for (state, seconds) in DEMO_GRACE {
        let duration = jiff::SignedDuration::from_secs(seconds as i64);
        settings
            .coverage
            .grace
            .set(state, SettingsDuration(duration));
    }
    let scenario = match &args.scenario {
        Some(path) => Scenario::from_file(path)?,
        None => Scenario::from_yaml(DEMO_SCENARIO, "scenarios/demo.yaml")?,
    };
    let length = scenario
        .settings
        .duration
        .map_or(Duration::from_secs(300), |d| d.0);
    let description = scenario.description.clone();
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let options = SimOptions {
        speed: args.speed,
        ..SimOptions::default()
    };
    let sim = Simulation::start(scenario, sim_listener, options).await?;
    let kubeconfig =
        std::env::temp_dir().join(format!("dsguard-demo-{}.kubeconfig", std::process::id()));
    dsguard_sim::kubeconfig::write(&kubeconfig, &sim.url())?;
    let listener = app::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    settings.alerting.external_url = format!("http://{addr}");
    let clock = sim.store.clock().clone();

    println!("dsguard demo: {description}");
    println!(
        "  simulated cluster  {}   (kubectl --kubeconfig {} get pods -A -o wide)",
        sim.url(),
        kubeconfig.display()
    );
    println!("  status page        http://{addr}/");
    println!(
        "  dsguard            http://{addr}/metrics   http://{addr}/api/v1/coverage   http://{addr}/api/v1/incidents"
    );
    println!(
        "  playing {}s of scenario time at {}x; grace periods shortened to {}",
        length.as_secs(),
        args.speed,
        DEMO_GRACE
            .iter()
            .map(|(s, secs)| format!("{} {secs}s", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();

    let (sender, receiver) = broadcast::channel(app::TRANSITION_BROADCAST);
    let printer = tokio::spawn(print_transitions(receiver, clock.clone()));
    let (notify, notified) = mpsc::channel(NOTIFICATION_QUEUE);
    let pager = tokio::spawn(narrate::print_notifications(notified, clock.clone()));
    let attach = Attach {
        listener: Some(listener),
        transitions: Some(sender),
        notifications: Some(notify),
    };
    let dsguard = Dsguard::start(&sim, settings, attach).await?;
    let wall = clock.wall_duration(length) + Duration::from_secs(1);
    let end = story_end(wall, args.linger, addr, clock.clone());
    let outcome = dsguard.run_until(end).await;
    printer.abort();
    pager.abort();
    sim.stop().await;
    let _ = std::fs::remove_file(&kubeconfig);
    outcome?;
    println!();
    println!("Scenario over. `dsguard run` watches a real cluster the same way; see the README.");
    Ok(())
}

/// Resolves when the story is over: after `wall` (or Ctrl-C), once the incident summary is
/// printed; with `linger`, only at Ctrl-C, so that the page stays up.
async fn story_end(wall: Duration, linger: bool, addr: SocketAddr, clock: SimClock) {
    tokio::select! {
        () = tokio::time::sleep(wall) => {}
        () = shutdown_signal() => return,
    }
    print!("\n{}", narrate::incident_summary(addr, &clock).await);
    if linger {
        println!("\nStill serving http://{addr}/ (--linger); Ctrl-C to stop.");
        shutdown_signal().await;
    }
}

async fn print_transitions(mut receiver: broadcast::Receiver<Transition>, clock: SimClock) {
    loop {
        let t = match receiver.recv().await {
            Ok(t) => t,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                println!("  ({missed} changes not shown)");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let what = match (t.from.state.is_gap(), t.to.state.is_gap()) {
            (false, true) => "gap opened ",
            (true, false) => "gap closed ",
            (true, true) if t.from.state == t.to.state && t.to.actionable => "actionable ",
            (true, true) => "gap changed",
            (false, false) => continue,
        };
        let at = clock.scenario_time_of(clock.now().min(t.at)).as_secs();
        let reason = if t.to.reason.as_str().is_empty() {
            String::new()
        } else {
            format!(" ({})", t.to.reason)
        };
        println!(
            "[{at:>4}s] {what}  {:<32} {:<12} {} -> {}{reason}",
            t.daemonset.to_string(),
            t.node,
            t.from.state.as_str(),
            t.to.state.as_str()
        );
    }
}
