//! `dsguard check` (being written).

/// Arguments of `dsguard check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

/// Runs `dsguard check`.
pub fn run(_args: &CheckArgs) -> std::process::ExitCode {
    std::process::ExitCode::from(2)
}
