//! The email receiver: one message per notification over SMTP (lettre), with STARTTLS, implicit
//! TLS or plain text, optional authentication, and a multipart body (text and HTML) naming the
//! node, DaemonSet, reason, since and runbook of every alert. The `Message-ID` is derived from the
//! notification's id, so that a message repeated by a crash in mid-send can be recognised.

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::config::{invalid, positive};
use super::error::DeliveryError;
use super::message::{self, TEST_TEXT};
use super::scrub::{Scrubber, Secrets};
use super::secret::Secret;
use super::{Notification, Status};
use crate::base::{Duration, SettingsError};

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or in tests.
    None,
}

/// Email over SMTP.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server as `host:port`.
    pub smtp: String,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub tls: SmtpTls,
    /// A PEM file of extra CA certificates to trust (a private CA); the web PKI roots are
    /// always trusted.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The user for SMTP AUTH.
    #[serde(default)]
    pub username: Option<String>,
    /// The password for SMTP AUTH.
    #[serde(default)]
    pub password: Option<Secret>,
    /// The sender, `dsguard@example.com` or `dsguard <dsguard@example.com>`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// Timeout of each SMTP command (default 30s).
    #[serde(default)]
    pub timeout: Option<Duration>,
}

/// Default SMTP command timeout.
const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl EmailConfig {
    /// Checks the server, the addresses and the credentials; errors name the key under `key`.
    pub fn validate(&self, key: &str) -> Result<(), SettingsError> {
        split_host_port(&self.smtp).map_err(|reason| invalid(format!("{key}.smtp"), reason))?;
        self.from
            .parse::<Mailbox>()
            .map_err(|e| invalid(format!("{key}.from"), e.to_string()))?;
        if self.to.is_empty() {
            return Err(invalid(format!("{key}.to"), "needs at least one address"));
        }
        for (i, to) in self.to.iter().enumerate() {
            to.parse::<Mailbox>()
                .map_err(|e| invalid(format!("{key}.to[{i}]"), e.to_string()))?;
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(invalid(
                format!("{key}.password"),
                "username and password go together",
            ));
        }
        if let Some(path) = &self.ca_file
            && !path.is_file()
        {
            return Err(invalid(
                format!("{key}.ca_file"),
                format!("{} is not a readable file", path.display()),
            ));
        }
        if let Some(timeout) = self.timeout {
            positive(format!("{key}.timeout"), timeout)?;
        }
        Ok(())
    }
}

/// `host:port` into its parts.
fn split_host_port(text: &str) -> Result<(String, u16), String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| "must be host:port".to_owned())?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("port {port:?} is not a number"))?;
    if host.is_empty() {
        return Err("the host is empty".to_owned());
    }
    Ok((host.trim_matches(['[', ']']).to_owned(), port))
}

/// Escapes text for HTML.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The text and HTML bodies of a notification.
pub fn bodies(n: &Notification) -> (String, String) {
    let title = message::title(n);
    let mut text = format!("{title}\n\n");
    let mut html = format!("<html><body><h2>{}</h2>\n", html_escape(&title));
    if n.test {
        text.push_str(&format!("{TEST_TEXT}\n\n"));
        html.push_str(&format!(
            "<p><strong>{}</strong></p>\n",
            html_escape(TEST_TEXT)
        ));
    }
    for alert in &n.alerts {
        let facts = message::facts(alert);
        let mark = if alert.status == Status::Resolved {
            "RESOLVED: "
        } else {
            ""
        };
        text.push_str(&format!("{mark}{}\n", facts.summary));
        html.push_str(&format!("<h3>{mark}{}</h3>\n", html_escape(&facts.summary)));
        if let Some(description) = &facts.description {
            text.push_str(&format!("{description}\n"));
            html.push_str(&format!("<p>{}</p>\n", html_escape(description)));
        }
        html.push_str("<table>\n");
        for (k, v) in &facts.fields {
            text.push_str(&format!("  {k}: {v}\n"));
            html.push_str(&format!(
                "<tr><th align=\"left\">{k}</th><td>{}</td></tr>\n",
                html_escape(v)
            ));
        }
        html.push_str("</table>\n");
        if let Some(runbook) = &facts.runbook {
            text.push_str(&format!("  Runbook: {runbook}\n"));
            let href = html_escape(runbook);
            html.push_str(&format!("<p><a href=\"{href}\">Runbook</a></p>\n"));
        }
        if !facts.generator_url.is_empty() {
            text.push_str(&format!("  Source: {}\n", facts.generator_url));
        }
        text.push('\n');
    }
    html.push_str("</body></html>\n");
    (text, html)
}

/// An SMTP receiver ready to send.
#[derive(Debug)]
pub(crate) struct EmailReceiver {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    scrubber: Scrubber,
}

impl EmailReceiver {
    /// Builds the transport (no connection yet); the settings were validated.
    pub(crate) fn new(config: &EmailConfig) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (host, port) = split_host_port(&config.smtp)?;
        let tls = if config.tls == SmtpTls::None {
            Tls::None
        } else {
            let mut params = TlsParameters::builder(host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path).map_err(|e| format!("ca_file: {e}"))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| format!("ca_file: {e}"))?;
                params = params.add_root_certificate(cert);
            }
            let params = params.build().map_err(|e| format!("tls: {e}"))?;
            match config.tls {
                SmtpTls::Tls => Tls::Wrapper(params),
                _ => Tls::Required(params),
            }
        };
        let timeout = config.timeout.map_or(DEFAULT_TIMEOUT, |t| t.std());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(timeout));
        let mut secrets = Secrets::default();
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
            secrets.value(password.expose());
            // What AUTH PLAIN and AUTH LOGIN send, should a server echo it.
            secrets.encoded(format!("\0{user}\0{}", password.expose()).as_bytes());
            secrets.encoded(password.expose().as_bytes());
        }
        let from = config.from.parse().map_err(|e| format!("from: {e}"))?;
        let to = config
            .to
            .iter()
            .map(|t| t.parse().map_err(|e| format!("to: {e}")))
            .collect::<Result<_, String>>()?;
        Ok(Self {
            transport: builder.build(),
            from,
            to,
            scrubber: secrets.build(),
        })
    }

    /// Builds and sends the message.
    pub(crate) async fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        let (text, html) = bodies(n);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(message::title(n))
            .message_id(Some(format!("<{}@dsguard>", n.id())));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let email = builder
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| DeliveryError::Build(e.to_string()))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| self.map_error(&e))
    }

    fn map_error(&self, error: &lettre::transport::smtp::Error) -> DeliveryError {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        let text = self.scrubber.scrub(&text);
        if error.is_timeout() {
            DeliveryError::Timeout
        } else if error.is_permanent() || error.is_transient() {
            DeliveryError::Smtp {
                message: text,
                transient: error.is_transient(),
            }
        } else {
            DeliveryError::SmtpSession(text)
        }
    }
}

#[cfg(test)]
mod tests;
