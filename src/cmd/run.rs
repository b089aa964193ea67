//! `dsguard run`: watch a cluster, export coverage metrics, serve the API, and (when configured)
//! notify and reconcile. The command line overrides the settings file and the environment.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::app::{self, Wiring};
use crate::base::SystemClock;
use crate::cluster::kube_client;
use crate::server::shutdown_signal;
use crate::settings::Settings;

/// Arguments of `dsguard run`; they override the settings file and the environment.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A settings file (YAML or TOML); `DSGUARD__SECTION__KEY` variables override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// The kubeconfig to use (default: `KUBECONFIG`, `~/.kube/config`, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Address to serve HTTP on (setting `server.listen`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// `dsguard run`: exit code 2 for bad settings (before anything starts), 1 when a task fails.
pub fn run(args: RunArgs) -> std::process::ExitCode {
    let settings = Settings::load(args.config.as_deref()).and_then(|mut settings| {
        if args.kubeconfig.is_some() {
            settings.kube.kubeconfig = args.kubeconfig;
        }
        if args.context.is_some() {
            settings.kube.context = args.context;
        }
        if let Some(listen) = args.listen {
            settings.server.listen = listen;
        }
        settings.validate().map(|()| settings)
    });
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("dsguard run: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    app::init_logging(&settings);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsguard run: cannot start the runtime: {error}");
            return std::process::ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let wiring = async {
            let client = kube_client(&settings.kube).await?;
            let listener = app::bind(settings.server.listen).await?;
            Ok::<_, anyhow::Error>(Wiring {
                client,
                clock: Arc::new(SystemClock),
                listener,
                transitions: None,
                notifications: None,
            })
        };
        let wiring = match wiring.await {
            Ok(wiring) => wiring,
            Err(error) => {
                eprintln!("dsguard run: {error:#}");
                return std::process::ExitCode::from(2);
            }
        };
        match app::run(settings, wiring, shutdown_signal()).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "dsguard stopped");
                std::process::ExitCode::from(1)
            }
        }
    })
}
