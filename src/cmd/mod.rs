//! The command line: one subcommand per job, each in its own file. This layer owns the `clap`
//! types and what the commands print; the jobs themselves live below it (`app` for `run`, the
//! library's layers for the rest).

mod alerts;
mod audit;
mod check;
mod completions;
#[cfg(feature = "sim")]
mod demo;
mod notify;
mod reconcile;
mod run;
mod source;
mod table;

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
    /// Evaluate the cluster (or a `kubectl get nodes,daemonsets,pods -A -o json` dump) once and
    /// report every gap.
    Check(check::CheckArgs),
    /// Watch a cluster: export coverage metrics and serve the API.
    Run(run::RunArgs),
    /// Play a simulated cluster in which a node fails, with dsguard watching it.
    #[cfg(feature = "sim")]
    Demo(demo::DemoArgs),
    /// Show what is firing now, from a running dsguard's API.
    Alerts(alerts::AlertsArgs),
    /// Test and list notification receivers.
    Notify(notify::NotifyArgs),
    /// Print the plan that would close every gap; `--apply` executes its safe actions.
    Reconcile(reconcile::ReconcileArgs),
    /// Serve a simulated Kubernetes API server that plays a scenario.
    #[cfg(feature = "sim")]
    Sim(dsguard_sim::SimArgs),
    /// Check every DaemonSet's spec for what decides whether its pods come back after a node
    /// fails: findings with evidence and fixes.
    Audit(audit::AuditArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
}

/// How a command prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Tables for people.
    Text,
    /// One JSON object for programs.
    Json,
}

/// Parses the command line and runs the chosen subcommand; the process exit code comes back.
pub fn main() -> ExitCode {
    // One TLS crypto provider for the whole process (kube, reqwest and lettre all use rustls);
    // an error only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Run(args) => run::run(args),
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(args),
        Command::Alerts(args) => alerts::run(&args),
        Command::Notify(args) => notify::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Audit(args) => audit::run(&args),
        Command::Completions(args) => completions::run(&args),
        #[cfg(feature = "sim")]
        Command::Sim(args) => match dsguard_sim::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("dsguard sim: {error:#}");
                ExitCode::from(2)
            }
        },
    }
}
