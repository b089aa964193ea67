//! The Prometheus text format (0.0.4), derived from the OpenMetrics rendering, for clients that
//! do not ask for OpenMetrics: `curl`, `promtool check metrics`, older scrapers.
//!
//! The two differ, for what dsguard exports, in three ways: a counter's `# HELP` and `# TYPE`
//! name its samples' name (with `_total`) instead of the family's; there are no `# UNIT` lines;
//! there is no `# EOF`. Samples are the same.

use std::collections::HashSet;

/// The content type of the Prometheus text format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Rewrites an OpenMetrics exposition as the Prometheus text format.
pub fn from_openmetrics(openmetrics: &str) -> String {
    let counters: HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let rewritten = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match rewritten {
            Some(line) => out.push_str(&line),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
