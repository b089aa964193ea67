//! Reconcile: the plan that closes every gap, and a safe executor (being written; see issue 6).

use serde::Deserialize;

/// The `reconcile` section of the settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconcileSettings {}

impl ReconcileSettings {
    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), crate::settings::SettingsError> {
        Ok(())
    }
}
