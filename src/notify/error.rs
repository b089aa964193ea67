//! The errors of the notify boundary: [`DeliveryError`] for one attempt at one receiver (transient
//! or permanent, which decides whether the dispatcher retries) and [`NotifyError`] for starting
//! the dispatcher and `dsguard notify test`. Messages never carry a receiver URL or credential:
//! HTTP errors are stripped of their URL and text from outside is scrubbed of known secrets.

use std::path::PathBuf;
use std::time::Duration;

/// One failed delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// No answer within the receiver's timeout.
    #[error("timed out")]
    Timeout,
    /// The connection could not be made (refused, DNS, TLS handshake).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The HTTP request failed in another way (reset, malformed answer).
    #[error("request failed: {0}")]
    Request(String),
    /// The receiver answered with a status that is not a success.
    #[error("receiver answered {status}: {body}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body, scrubbed of secrets.
        body: String,
        /// The delay the receiver asked for in `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The receiver answered with a redirect, which is not followed: the request's credentials
    /// would go to the host it names.
    #[error(
        "receiver answered {status}, a redirect, which is not followed: set the receiver's URL to the final address"
    )]
    Redirect {
        /// The HTTP status code (3xx).
        status: u16,
    },
    /// The SMTP server answered with an error code.
    #[error("smtp server answered: {message}")]
    Smtp {
        /// The reply, code and text, scrubbed of secrets.
        message: String,
        /// A 4xx reply (try again later) rather than 5xx.
        transient: bool,
    },
    /// The SMTP session failed outside a reply (connection, TLS, protocol).
    #[error("smtp session failed: {0}")]
    SmtpSession(String),
    /// The message could not be built (bad address, payload).
    #[error("cannot build the message: {0}")]
    Build(String),
}

impl DeliveryError {
    /// Whether trying again later may succeed: timeouts, connection failures, HTTP 408, 429
    /// and 5xx, SMTP 4xx replies and broken sessions. Other 4xx, SMTP 5xx and bad messages are
    /// permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout | Self::Connect(_) | Self::Request(_) | Self::SmtpSession(_) => true,
            Self::Http { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            Self::Smtp { transient, .. } => *transient,
            Self::Redirect { .. } | Self::Build(_) => false,
        }
    }

    /// The delay the receiver asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A fixed label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect",
            Self::Request(_) => "request",
            Self::Http { status: 429, .. } => "http_429",
            Self::Http { status, .. } if *status >= 500 => "http_5xx",
            Self::Http { .. } => "http_4xx",
            Self::Redirect { .. } => "redirect",
            Self::Smtp {
                transient: true, ..
            } => "smtp_4xx",
            Self::Smtp { .. } => "smtp_5xx",
            Self::SmtpSession(_) => "smtp_session",
            Self::Build(_) => "build",
        }
    }
}

/// Starting the dispatcher or sending a test notification failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No receiver of that name in the settings.
    #[error("no receiver named {0:?} in notify.receivers")]
    UnknownReceiver(String),
    /// A receiver could not be set up (its settings were not validated, or TLS failed to load).
    #[error("receiver {receiver}: {reason}")]
    Receiver {
        /// The receiver's name.
        receiver: String,
        /// What is wrong, without secrets.
        reason: String,
    },
    /// The state directory cannot be used.
    #[error("notify.state_dir: cannot use {}: {source}", path.display())]
    State {
        /// The directory or file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The receiver refused or could not be reached.
    #[error("delivery to {receiver} failed: {source}")]
    Delivery {
        /// The receiver's name.
        receiver: String,
        /// The receiver's answer.
        #[source]
        source: DeliveryError,
    },
}

impl NotifyError {
    /// A fixed label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::UnknownReceiver(_) => "unknown_receiver",
            Self::Receiver { .. } => "receiver",
            Self::State { .. } => "state",
            Self::Delivery { source, .. } => source.metric_label(),
        }
    }
}

#[cfg(test)]
mod tests;
