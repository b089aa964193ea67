//! The HTTP side shared by the webhook, Slack and Alertmanager receivers: one client per receiver
//! (rustls with the ring provider, a timeout), and the mapping of reqwest's results to
//! [`DeliveryError`] without the URL (reqwest puts it in its errors) and with the answer's body
//! scrubbed of the receiver's secrets. Redirects are not followed: the request's credentials
//! (a token in the URL, an API key header) would go to whatever host the receiver names, and the
//! notification would be reported delivered wherever it landed; a 3xx is a permanent failure.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::error::DeliveryError;
use super::scrub::Scrubber;

/// Default request timeout of the HTTP receivers.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an error answer's body is kept (enough for Slack's `invalid_payload` or a JSON
/// error, not a whole HTML page).
const BODY_LIMIT: usize = 512;

/// How much of an error answer's body is read and scrubbed before it is cut to [`BODY_LIMIT`]:
/// scrubbing before cutting keeps a secret that straddles the cut from surviving in part.
const BODY_READ_LIMIT: usize = 64 * 1024;

/// A client with the timeout; installs ring as rustls's provider first (kube already links it).
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("dsguard/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| describe(&e.without_url()))
}

/// Headers from the settings; names and values were checked by `validate`.
pub(crate) fn headers<'a>(
    pairs: impl IntoIterator<Item = (&'a String, &'a str)>,
) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let mut value =
            HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

/// An error and its causes on one line, without the URL.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Sends the request and maps the outcome: 2xx is success; 3xx a permanent failure (redirects
/// are not followed); 408, 429 and 5xx are transient (with `Retry-After`), other statuses
/// permanent; transport failures are transient. Every text from outside is scrubbed.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    scrubber: &Scrubber,
) -> Result<(), DeliveryError> {
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            let error = error.without_url();
            let text = printable(&scrubber.scrub(&describe(&error)));
            return Err(if error.is_timeout() {
                DeliveryError::Timeout
            } else if error.is_connect() {
                DeliveryError::Connect(text)
            } else {
                DeliveryError::Request(text)
            });
        }
    };
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    if status.is_redirection() {
        // Neither the body nor `Location` is kept: either may carry the credential onward.
        return Err(DeliveryError::Redirect {
            status: status.as_u16(),
        });
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if bytes.len() < BODY_READ_LIMIT => bytes.extend_from_slice(&chunk),
            Ok(_) => break,
            Err(error) if error.is_timeout() => return Err(DeliveryError::Timeout),
            Err(_) => break,
        }
    }
    let body = scrubber.scrub(String::from_utf8_lossy(&bytes).trim());
    Err(DeliveryError::Http {
        status: status.as_u16(),
        body: printable(&body).chars().take(BODY_LIMIT).collect(),
        retry_after,
    })
}

/// Text from outside with control characters escaped, so that it cannot forge log lines or
/// drive a terminal.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or_default())
}

#[cfg(test)]
mod tests;
