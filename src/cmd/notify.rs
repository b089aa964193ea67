//! `dsguard notify`: commands about the receivers of the settings. `dsguard notify test
//! --receiver NAME` sends a clearly marked test notification and prints the receiver's answer;
//! the exit code is 0 when it was accepted, 1 when the receiver refused it or could not be
//! reached, 2 for bad settings or an unknown receiver.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::settings::Settings;

/// `dsguard notify …`.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: NotifyCommand,
}

/// The `notify` subcommands.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test notification to one receiver and report its answer.
    Test(TestArgs),
    /// List the receivers of the settings (names and kinds, no secrets).
    List(ListArgs),
}

/// `dsguard notify test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// A settings file (YAML or TOML); `DSGUARD__SECTION__KEY` variables override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The receiver's name, from `notify.receivers`.
    #[arg(long, value_name = "NAME")]
    pub receiver: String,
}

/// `dsguard notify list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// A settings file (YAML or TOML); `DSGUARD__SECTION__KEY` variables override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs a `dsguard notify` command; the process exit code comes back.
pub fn run(args: NotifyArgs) -> ExitCode {
    match args.command {
        NotifyCommand::Test(args) => test(&args),
        NotifyCommand::List(args) => list(&args),
    }
}

fn load(config: Option<&std::path::Path>) -> Result<Settings, ExitCode> {
    Settings::load(config).map_err(|error| {
        eprintln!("dsguard notify: {error}");
        ExitCode::from(2)
    })
}

fn test(args: &TestArgs) -> ExitCode {
    let settings = match load(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsguard notify test: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(crate::notify::send_test(&settings.notify, &args.receiver)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(error @ crate::notify::NotifyError::UnknownReceiver(_)) => {
            eprintln!("dsguard notify test: {error}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("dsguard notify test: {error}");
            ExitCode::from(1)
        }
    }
}

fn list(args: &ListArgs) -> ExitCode {
    let settings = match load(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    for receiver in &settings.notify.receivers {
        let kind = match receiver.kind() {
            Some(crate::notify::ReceiverKind::Webhook(_)) => "webhook",
            Some(crate::notify::ReceiverKind::Slack(_)) => "slack",
            Some(crate::notify::ReceiverKind::Email(_)) => "email",
            Some(crate::notify::ReceiverKind::Alertmanager(_)) => "alertmanager",
            None => "invalid",
        };
        println!("{}\t{kind}", receiver.name);
    }
    ExitCode::SUCCESS
}
