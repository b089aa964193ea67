//! The error of a setting that cannot be used. Every module checks its own section of the
//! settings and reports with this type, naming the key, so that `settings` can compose the
//! sections without the sections knowing it.

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The file or the environment could not be read.
    #[error("cannot read settings: {0}")]
    Source(String),
    /// A key is unknown or its value has the wrong form.
    #[error("setting {key}: {reason}")]
    Invalid {
        /// The key, e.g. `server.listen`.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

impl SettingsError {
    /// An invalid value of `key`.
    pub fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }
}
