//! `beacon backup FILE` and `beacon restore FILE`: the embedded store's
//! data directory as one tar file, taken while Beacon serves.
//!
//! The backup holds every database file (copied consistently by
//! `beacon_store::backup_embedded`) and the encryption key file when there
//! is one — without the key, stored emails and phones cannot be read, so
//! keep the backup as safe as the key. A PostgreSQL store is backed up with
//! PostgreSQL's own tools (`pg_dump`; see docs/OPERATIONS.md).

use anyhow::{Context as _, bail};
use std::fs::File;
use std::io::Write as _;
use std::path::Path;

/// Files holding the shop's data are the owner's only (0600).
pub fn private(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

/// The key file beside the databases.
const KEY_FILE: &str = "encryption.key";

/// Writes the backup of `data_dir` to `file` (first to `file.partial`, then renamed).
pub async fn backup(data_dir: &Path, file: &Path) -> anyhow::Result<Vec<String>> {
    if !data_dir.join("beacon.db").is_file() {
        bail!("{} holds no embedded store (no beacon.db)", data_dir.display());
    }
    if file.exists() {
        bail!("{} exists already; choose a new file", file.display());
    }
    let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let staging = tempfile::tempdir_in(parent).with_context(|| format!("a staging folder in {}", parent.display()))?;
    beacon_store::backup_embedded(data_dir, staging.path())
        .await
        .with_context(|| format!("copying the databases of {}", data_dir.display()))?;
    let mut names: Vec<String> = beacon_store::EMBEDDED_FILES.iter().map(|s| s.to_string()).collect();
    if data_dir.join(KEY_FILE).is_file() {
        std::fs::copy(data_dir.join(KEY_FILE), staging.path().join(KEY_FILE)).context("copying the key file")?;
        names.push(KEY_FILE.into());
    }
    let mut partial = file.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let out = private(File::options().write(true).create_new(true))
        .open(&partial)
        .with_context(|| format!("creating {} (it must not exist)", partial.display()))?;
    let mut tar = tar::Builder::new(out);
    for name in &names {
        tar.append_path_with_name(staging.path().join(name), name).with_context(|| format!("adding {name}"))?;
    }
    let mut out = tar.into_inner().context("finishing the archive")?;
    out.flush()?;
    out.sync_all().context("syncing the backup")?;
    // a hard link fails if `file` appeared meanwhile: nothing is overwritten
    std::fs::hard_link(&partial, file).with_context(|| format!("naming the backup {}", file.display()))?;
    std::fs::remove_file(&partial).context("removing the partial name")?;
    Ok(names)
}

/// Unpacks the backup `file` into `data_dir`, which must not hold a store.
/// Nothing is left in `data_dir` unless the whole backup was read.
pub fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<Vec<String>> {
    let leftovers =
        beacon_store::EMBEDDED_FILES.iter().flat_map(|f| [f.to_string(), format!("{f}-wal"), format!("{f}-shm")]);
    for name in leftovers.chain([KEY_FILE.to_string()]) {
        if data_dir.join(&name).exists() {
            bail!("{} already holds {name}: restore into an empty data directory", data_dir.display());
        }
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let staging = tempfile::tempdir_in(data_dir).context("a staging folder")?;
    let mut archive = tar::Archive::new(File::open(file).with_context(|| format!("opening {}", file.display()))?);
    let mut restored = Vec::new();
    for entry in archive.entries().context("reading the backup")? {
        let mut entry = entry.context("reading the backup")?;
        let name = entry.path().context("an entry's name")?.to_string_lossy().into_owned();
        // only the files a backup holds, by their bare names: nothing lands elsewhere
        if !beacon_store::EMBEDDED_FILES.contains(&name.as_str()) && name != KEY_FILE {
            bail!("{} is not a Beacon backup: it holds {name:?}", file.display());
        }
        let target = staging.path().join(&name);
        let mut out = private(File::options().write(true).create(true).truncate(true))
            .open(&target)
            .with_context(|| format!("writing {}", target.display()))?;
        std::io::copy(&mut entry, &mut out).with_context(|| format!("reading {name} from the backup"))?;
        out.sync_all()?;
        restored.push(name);
    }
    for name in beacon_store::EMBEDDED_FILES {
        if !restored.iter().any(|r| r == name) {
            bail!("{} is not a whole Beacon backup: {name} is missing", file.display());
        }
    }
    for name in &restored {
        std::fs::rename(staging.path().join(name), data_dir.join(name))
            .with_context(|| format!("moving {name} into {}", data_dir.display()))?;
    }
    File::open(data_dir).and_then(|d| d.sync_all()).context("syncing the data directory")?;
    Ok(restored)
}
