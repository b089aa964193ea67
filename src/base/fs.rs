//! Writing a file so that a crash leaves the old or the new content, never a mix: the alert
//! engine's state and the notifier's outbox and log all go through [`write_atomic`].

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file beside it (`<path>.tmp`), synced, then
/// renamed over `path`; a `kill -9` or a power loss at any instant leaves either the old or the
/// new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The rename is durable only once the directory is synced (power loss; kill -9 is
        // covered by the rename alone).
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}
