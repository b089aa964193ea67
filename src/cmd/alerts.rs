//! `dsguard alerts`: what is firing now, from a running dsguard's API.

use std::process::ExitCode;

use serde_json::Value;

use crate::cmd::table::{cell, table};

/// Arguments of `dsguard alerts`.
#[derive(Debug, clap::Args)]
pub struct AlertsArgs {
    /// The running dsguard's base URL.
    #[arg(long, env = "DSGUARD_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// A file holding the API's bearer token, for a dsguard whose reads are protected
    /// (`server.auth.protect_reads`).
    #[arg(long, env = "DSGUARD_TOKEN_FILE")]
    pub token_file: Option<std::path::PathBuf>,
}

/// Runs `dsguard alerts`: exit 0 when nothing fires, 1 when something does, 2 when the API
/// cannot be read.
pub fn run(args: &AlertsArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsguard alerts: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let body = runtime.block_on(fetch(args));
    let body = match body {
        Ok(body) => body,
        Err(message) => {
            eprintln!("dsguard alerts: {message}");
            return ExitCode::from(2);
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    } else {
        print!("{}", render(&body));
    }
    let firing = body["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a["state"] == "firing");
    if firing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `GET /api/v1/alerts`, with the token of `--token-file` if given; the error is the message.
async fn fetch(args: &AlertsArgs) -> Result<Value, String> {
    let token = match &args.token_file {
        None => None,
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("--token-file {}: {e}", path.display()))?
                .trim()
                .to_owned(),
        ),
    };
    let url = format!("{}/api/v1/alerts", args.url.trim_end_matches('/'));
    let mut request = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(10));
    if let Some(token) = &token {
        // bearer_auth marks the header sensitive: it stays out of reqwest's debug output.
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {}", e.without_url()))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("{url}: not the alerts API: {}", e.without_url()))?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{url}: HTTP {status}: {}", cell(&body.to_string())))
    }
}

/// The alerts as a table.
pub fn render(body: &Value) -> String {
    let mut out = String::new();
    if let Some(reason) = body["blind"]["reason"].as_str() {
        out.push_str(&format!(
            "dsguard is blind since {}: {}\n\n",
            cell(body["blind"]["since"].as_str().unwrap_or("?")),
            cell(reason)
        ));
    }
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        out.push_str("No active alert.\n");
        return out;
    }
    let rows = alerts.iter().map(|a| {
        let label = |k: &str| a["labels"][k].as_str().unwrap_or("").to_owned();
        let since = a["firing_since"]
            .as_str()
            .or(a["active_since"].as_str())
            .unwrap_or("")
            .to_owned();
        vec![
            a["state"].as_str().unwrap_or("").to_owned(),
            label("alertname"),
            label("severity"),
            since,
            a["annotations"]["summary"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        ]
    });
    out.push_str(&table(
        &["STATE", "ALERT", "SEVERITY", "SINCE", "SUMMARY"],
        rows,
    ));
    out
}

#[cfg(test)]
mod tests;
