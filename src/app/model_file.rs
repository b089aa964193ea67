//! The model's file in the state directory (`notify.state_dir`): `model.json`, the
//! [`Snapshot`] of the grace clocks no object carries and of the node incidents, so that a
//! restart neither starts those clocks again nor forgets an incident.
//!
//! Written whole to a temporary file, synced and renamed (then the directory synced), so a
//! `kill -9` or a power loss leaves the old file or the new one, never half of one. Written by
//! the model task at most every [`SAVE_EVERY`] and only when something changed, and once more at
//! shutdown. A file that cannot be read, is too big or does not parse is logged, renamed
//! `model.json.bad` and ignored: losing the clocks is better than not starting.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::base::{Timestamp, write_atomic};
use crate::model::{SNAPSHOT_VERSION, SharedModel, Snapshot};

/// The file's name in the state directory.
pub const FILE_NAME: &str = "model.json";

/// How often the model task saves at most. A grace period is minutes long; losing ten seconds
/// of a clock on a crash shortens it by that much, and a write of a few KiB every ten seconds
/// costs nothing.
pub const SAVE_EVERY: Duration = Duration::from_secs(10);

/// A file larger than this is not read: the snapshot's bounds (20,000 cells of about 150 bytes,
/// 5,000 open and 100 closed incidents) stay well under it, so anything bigger is not ours.
pub const MAX_BYTES: u64 = 16 << 20;

/// The model's file, and what was last written to it.
#[derive(Debug)]
pub struct ModelFile {
    path: PathBuf,
    /// The last snapshot written (its `taken` left out of the comparison), and when.
    last: Option<(Snapshot, Instant)>,
}

impl ModelFile {
    /// The file in `dir`; `None` without a state directory (nothing survives a restart then).
    pub fn new(dir: Option<&Path>) -> Option<Self> {
        Some(Self {
            path: dir?.join(FILE_NAME),
            last: None,
        })
    }

    /// The snapshot of the previous run, if there is a readable one.
    pub fn load(&self) -> Option<Snapshot> {
        let read = || -> Result<Snapshot, String> {
            let size = fs::metadata(&self.path).map_err(|e| e.to_string())?.len();
            if size > MAX_BYTES {
                return Err(format!("{size} bytes, more than {MAX_BYTES}"));
            }
            let bytes = fs::read(&self.path).map_err(|e| e.to_string())?;
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())
        };
        if !self.path.exists() {
            return None;
        }
        match read() {
            Ok(snapshot) if snapshot.version == SNAPSHOT_VERSION => Some(snapshot),
            Ok(snapshot) => {
                tracing::warn!(path = %self.path.display(), version = snapshot.version, "model file of another version ignored");
                None
            }
            Err(error) => {
                let aside = self.path.with_extension("json.bad");
                tracing::warn!(path = %self.path.display(), %error, aside = %aside.display(), "unreadable model file set aside; grace clocks and incidents start afresh");
                let _ = fs::rename(&self.path, aside);
                None
            }
        }
    }

    /// Saves the model if [`SAVE_EVERY`] has passed (or `force`) and it changed.
    pub async fn save(&mut self, model: &SharedModel, now: Timestamp, force: bool) {
        if !force
            && self
                .last
                .as_ref()
                .is_some_and(|(_, at)| at.elapsed() < SAVE_EVERY)
        {
            return;
        }
        let Ok(snapshot) = model.lock().map(|m| m.snapshot(now)) else {
            return;
        };
        if let Some((last, at)) = &mut self.last
            && (&last.cells, &last.open, &last.closed)
                == (&snapshot.cells, &snapshot.open, &snapshot.closed)
        {
            *at = Instant::now();
            return;
        }
        let path = self.path.clone();
        let to_write = snapshot.clone();
        let written = tokio::task::spawn_blocking(move || write(&path, &to_write)).await;
        match written {
            Ok(Ok(())) => self.last = Some((snapshot, Instant::now())),
            Ok(Err(error)) => {
                tracing::warn!(path = %self.path.display(), %error, "cannot save the model file")
            }
            Err(error) => tracing::warn!(%error, "the model file writer failed"),
        }
    }
}

/// Writes `snapshot` to `path` atomically (see [`write_atomic`]).
fn write(path: &Path, snapshot: &Snapshot) -> io::Result<()> {
    let bytes = serde_json::to_vec(snapshot).map_err(io::Error::other)?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests;
