//! `dsguard completions SHELL`: prints a completion script for bash, zsh, fish, elvish or
//! PowerShell, generated from the same command definition the binary parses.

use std::io::Write as _;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `dsguard completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Install, for example:
  dsguard completions bash > /etc/bash_completion.d/dsguard
  dsguard completions zsh > \"${fpath[1]}/_dsguard\"
  dsguard completions fish > ~/.config/fish/completions/dsguard.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the script to standard output (a closed pipe, as with `| head`, is not an error).
pub fn run(args: &CompletionsArgs) -> ExitCode {
    let mut command = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "dsguard", &mut script);
    match std::io::stdout().write_all(&script) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dsguard completions: {error}");
            ExitCode::from(1)
        }
    }
}
