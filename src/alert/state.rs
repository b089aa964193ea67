//! What the engine saves to `alerts.json` in the state directory, and how: active alerts, groups,
//! silences, and the notifications it decided that the dispatcher does not hold yet (`pending`).
//!
//! The file is written whole in one atomic write ([`write_atomic`]), so a decision and the
//! notification it produced are committed together: a crash before the write forgets both (the
//! engine decides again, and nothing was sent), a crash after it keeps both (the notification is
//! handed over again with its id, and the dispatcher accepts it once). A pending notification is
//! let go once the dispatcher holds it, which keeps the file small.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::silence::Silence;
use super::{ActiveAlert, Group};
use crate::base::write_atomic;
use crate::notification::Notification;

/// The engine's state, as saved.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Saved {
    pub(super) active: BTreeMap<String, ActiveAlert>,
    pub(super) groups: BTreeMap<String, Group>,
    pub(super) silences: Vec<Silence>,
    pub(super) next_silence: u64,
    /// Decided, in the order decided, and not yet held by the dispatcher. Absent from files
    /// written before it existed.
    #[serde(default)]
    pub(super) pending: Vec<Notification>,
}

/// Saves the state; a failure is logged (the engine goes on from memory).
pub(super) fn save(path: &Path, state: &Saved) {
    let written = serde_json::to_vec(state)
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_atomic(path, &bytes));
    if let Err(error) = written {
        tracing::error!(%error, path = %path.display(), "cannot save the alert state");
    }
}

/// The saved state; a missing file is a fresh start, a corrupt one is set aside (logged, never
/// fatal).
pub(super) fn load(path: &Path) -> Saved {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Saved::default(),
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "cannot read the alert state; starting afresh");
            return Saved::default();
        }
    };
    match serde_json::from_str::<Saved>(&text) {
        Ok(mut saved) => {
            saved.silences = saved
                .silences
                .into_iter()
                .filter_map(Silence::restore)
                .collect();
            saved
        }
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "corrupt alert state set aside; starting afresh");
            let _ = std::fs::rename(path, path.with_extension("json.corrupt"));
            Saved::default()
        }
    }
}
