//! Secrets in the notify settings: tokens, passwords and URLs that carry credentials (a Slack
//! incoming-webhook URL *is* its credential, in the path). They come from the settings and go only
//! into requests; `Debug` and `Display` print `<redacted>` (a URL shows its scheme and host), so a
//! secret cannot reach a log, an API response or an error message by formatting.

use std::fmt;

use serde::Deserialize;

/// What a redacted value prints as.
pub const REDACTED: &str = "<redacted>";

/// A secret string, such as a bearer token or an SMTP password.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the request that needs it; never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A URL whose path, query and user info may be secret. It prints as `scheme://host:port/<redacted>`.
/// It is checked by [`SecretUrl::parse`] in `validate`, so that the error names the key.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Parses the URL: it must be absolute, `http` or `https`, with a host. The error never
    /// contains the URL.
    pub fn parse(&self) -> Result<reqwest::Url, String> {
        let url = reqwest::Url::parse(&self.0).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "scheme {:?} is not http or https",
                url.scheme().chars().take(16).collect::<String>()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL has no host".to_owned());
        }
        Ok(url)
    }

    /// The value, for the request that needs it; never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The parts a secret may hide in: user info, path and query (for scrubbing error text).
    pub fn secret_parts(&self) -> Vec<String> {
        let mut parts = vec![self.0.clone()];
        if let Ok(url) = reqwest::Url::parse(&self.0) {
            let path = url.path().trim_matches('/');
            if path.len() >= 8 {
                parts.push(path.to_owned());
            }
            if let Some(query) = url.query().filter(|q| q.len() >= 4) {
                parts.push(query.to_owned());
            }
            if let Some(password) = url.password() {
                parts.push(password.to_owned());
            }
            if !url.username().is_empty() {
                parts.push(url.username().to_owned());
            }
        }
        parts
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match reqwest::Url::parse(&self.0) {
            Ok(url) => {
                write!(f, "{}://{}", url.scheme(), url.host_str().unwrap_or(""))?;
                if let Some(port) = url.port() {
                    write!(f, ":{port}")?;
                }
                write!(f, "/{REDACTED}")
            }
            Err(_) => f.write_str(REDACTED),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({self})")
    }
}

/// Replaces every occurrence of a secret in `text` with `<redacted>`: for text that comes from
/// outside (a receiver's answer may echo the request) before it goes into an error.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_redacted_in_debug_and_display() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
    }

    #[test]
    fn a_slack_url_shows_only_scheme_and_host() {
        let u = SecretUrl::new("https://hooks.slack.com/services/T0/B0/XXXXSECRET?x=1");
        assert_eq!(u.to_string(), "https://hooks.slack.com/<redacted>");
        assert!(!format!("{u:?}").contains("XXXXSECRET"));
    }

    #[test]
    fn a_url_with_a_port_keeps_the_port() {
        let u = SecretUrl::new("http://127.0.0.1:9093/api");
        assert_eq!(u.to_string(), "http://127.0.0.1:9093/<redacted>");
    }

    #[test]
    fn parse_errors_never_contain_the_url() {
        for bad in [
            "hooks.slack.com/SECRETPATH",
            "ftp://x/SECRETPATH",
            "http://:80/SECRETPATH",
        ] {
            let e = SecretUrl::new(bad).parse().unwrap_err();
            assert!(!e.contains("SECRETPATH"), "{e}");
        }
    }

    #[test]
    fn scrub_removes_url_paths_and_tokens_from_text() {
        let u = SecretUrl::new("https://hooks.slack.com/services/T0/B0/XXXXSECRET");
        let text = "no_service for /services/T0/B0/XXXXSECRET";
        assert_eq!(scrub(text, &u.secret_parts()), "no_service for /<redacted>");
    }
}
