//! `dsguard alerts`: what is firing now, from a running dsguard's API.

use std::process::ExitCode;

use serde_json::Value;

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
        Err(format!("{url}: HTTP {status}: {body}"))
    }
}

/// The alerts as a table.
pub fn render(body: &Value) -> String {
    let mut out = String::new();
    if let Some(reason) = body["blind"]["reason"].as_str() {
        out.push_str(&format!(
            "dsguard is blind since {}: {reason}\n\n",
            body["blind"]["since"].as_str().unwrap_or("?")
        ));
    }
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        out.push_str("No active alert.\n");
        return out;
    }
    let rows: Vec<[String; 5]> = alerts
        .iter()
        .map(|a| {
            let label = |k: &str| a["labels"][k].as_str().unwrap_or("").to_owned();
            let since = a["firing_since"]
                .as_str()
                .or(a["active_since"].as_str())
                .unwrap_or("")
                .to_owned();
            [
                a["state"].as_str().unwrap_or("").to_owned(),
                label("alertname"),
                label("severity"),
                since,
                a["annotations"]["summary"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            ]
        })
        .collect();
    let header = ["STATE", "ALERT", "SEVERITY", "SINCE", "SUMMARY"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 5]| {
        format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )
    };
    out.push_str(&line(header));
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_render_as_a_table_and_blindness_comes_first() {
        let body = serde_json::json!({
            "blind": null,
            "alerts": [{"state": "firing", "labels": {"alertname": "DaemonSetPodsStranded", "severity": "critical"},
                        "annotations": {"summary": "Node w-2 is down: 2 daemon pod(s) lost"}, "firing_since": "2026-11-22T00:02:00Z"}]
        });
        let text = render(&body);
        assert!(text.starts_with("STATE   ALERT"), "{text}");
        assert!(
            text.contains(
                "firing  DaemonSetPodsStranded  critical  2026-11-22T00:02:00Z  Node w-2 is down"
            ),
            "{text}"
        );
        let blind = serde_json::json!({"blind": {"since": "2026-11-22T00:00:00Z", "reason": "waiting"}, "alerts": []});
        assert_eq!(
            render(&blind),
            "dsguard is blind since 2026-11-22T00:00:00Z: waiting\n\nNo active alert.\n"
        );
    }
}
