//! Secrets in the notify settings: tokens, passwords and URLs that carry credentials (a Slack
//! incoming-webhook URL *is* its credential, in the path). They come from the settings and go only
//! into requests; `Debug` and `Display` print `<redacted>` (a URL shows its scheme and host), so a
//! secret cannot reach a log, an API response or an error message by formatting. Text from
//! outside that may echo a secret is cleaned by `scrub`.

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

#[cfg(test)]
mod tests;
