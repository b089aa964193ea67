//! The command line: one subcommand per job, each handing over to its module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// dsguard watches the DaemonSets of a Kubernetes cluster: which daemon pods should run on every
/// node, which are scheduled there, which are ready, and which were lost with a failed node.
#[derive(Debug, Parser)]
#[command(name = "dsguard", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate a `kubectl get nodes,daemonsets,pods -A -o json` dump and report every gap.
    Check(crate::check::CheckArgs),
    /// Watch a cluster: export coverage metrics and serve the API.
    Run(crate::app::RunArgs),
    /// Play a simulated cluster in which a node fails, with dsguard watching it.
    Demo(crate::demo::DemoArgs),
    /// Show what is firing now, from a running dsguard's API.
    Alerts(crate::alert::cli::AlertsArgs),
    /// Test and list notification receivers.
    Notify(crate::notify::NotifyArgs),
    /// Print the plan that would close every gap; `--apply` executes its safe actions.
    Reconcile(crate::reconcile::cli::ReconcileArgs),
    /// Serve a simulated Kubernetes API server that plays a scenario.
    Sim(crate::sim::SimArgs),
}

/// Parses the command line and runs the chosen subcommand; the process exit code comes back.
pub fn main() -> ExitCode {
    // One TLS crypto provider for the whole process (kube, reqwest and lettre all use rustls);
    // an error only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => crate::check::run(&args),
        Command::Run(args) => crate::app::run_command(args),
        Command::Demo(args) => crate::demo::run(args),
        Command::Alerts(args) => crate::alert::cli::run(&args),
        Command::Notify(args) => crate::notify::run(args),
        Command::Reconcile(args) => crate::reconcile::cli::run(args),
        Command::Sim(args) => match crate::sim::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("dsguard sim: {error:#}");
                ExitCode::from(2)
            }
        },
    }
}
