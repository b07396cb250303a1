//! A consistent copy of the embedded store while it serves: each file is
//! copied from one read snapshot with SQLite's `VACUUM INTO`, in an order
//! that keeps the copy consistent across files: the state derived from the
//! log before the log (the copy's processor offset is never past the copy's
//! log; the processor replays the rest after a restore), and the checkouts
//! after the log, since a checkout commits before its order event is
//! appended (every order event in the copy has its checkout, with its
//! limit takes and points; a checkout whose event is not in the copy is
//! written again by the lost-order sweep, as after any crash).

use super::backend;
use crate::{Result, StoreError};
use sqlx::{AnyConnection, Connection};
use std::path::Path;

/// The data directory's database files, in the order a backup copies them.
pub const EMBEDDED_FILES: [&str; 3] = ["beacon.db", "events.db", "checkout.db"];

/// Makes the data directory readable by its owner only (0700) and every
/// database file in it, with its WAL and shared-memory files, 0600: a
/// missing database file is created so, and SQLite gives the WAL and
/// shared-memory files it creates later the database file's mode. (A data
/// directory of an older version, with 0644 files, is tightened too.)
pub fn make_private(data_dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let private = |p: &Path, mode| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
        private(data_dir, 0o700)?;
        for entry in std::fs::read_dir(data_dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                private(&entry.path(), 0o600)?;
            }
        }
        for name in EMBEDDED_FILES {
            let path = data_dir.join(name);
            if !path.exists() {
                std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(&path)?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = data_dir;
    Ok(())
}

/// Copies each database file of `data_dir` into `into` (which must exist;
/// the copies must not).
pub async fn backup_embedded(data_dir: &Path, into: &Path) -> Result<()> {
    sqlx::any::install_default_drivers();
    for name in EMBEDDED_FILES {
        let from = data_dir.join(name);
        if !from.is_file() {
            return Err(StoreError::NotFound);
        }
        let to = into.join(name);
        let to = to.to_str().ok_or_else(|| StoreError::Backend(format!("{} is not UTF-8", to.display())))?;
        let mut conn = AnyConnection::connect(&format!("sqlite://{}", from.display())).await.map_err(backend)?;
        sqlx::query("VACUUM INTO $1").bind(to).execute(&mut conn).await.map_err(backend)?;
        conn.close().await.map_err(backend)?;
    }
    Ok(())
}
