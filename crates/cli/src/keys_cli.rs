//! `beacon keys`: API keys directly in the store, the edge nodes' public
//! key, and rotating the key personal data is encrypted with.

use crate::{Common, load_settings};
use anyhow::anyhow;
use beacon_server::app::keys;
use beacon_server::open_store;
use beacon_store::Store;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum KeyAction {
    /// Create a secret key with a role, or a write key (`--write`, with
    /// `--source client` for pages and apps, the default, or `--source
    /// server` for the shop's back end: see docs/SECURITY.md).
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long, required_unless_present = "write", conflicts_with = "write")]
        role: Option<String>,
        #[arg(long)]
        write: bool,
        #[arg(long, requires = "write")]
        source: Option<String>,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Print the public key edge nodes seal personal data for
    /// (`security.edge_public_key` of a `--role edge` node); needs this
    /// node's encryption key.
    EdgePublic {
        #[command(flatten)]
        common: Common,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Rotate the key personal data is encrypted with, beside running
    /// nodes: a new data key (kept in the database, sealed under the master
    /// key), then every stored value sealed again under it.
    RotatePii {
        #[command(flatten)]
        common: Common,
        /// Only count the stored values under each data key.
        #[arg(long)]
        check: bool,
        /// Seal again under the current key, making no new one (after an
        /// interrupted rotation).
        #[arg(long = "continue", conflicts_with = "check")]
        resume: bool,
    },
}

pub async fn run(action: KeyAction) -> anyhow::Result<()> {
    match action {
        KeyAction::EdgePublic { common } => {
            let settings = load_settings(&common, None)?;
            let pii = beacon_server::pii_cipher(&settings)?;
            let key = pii.edge_public_key().ok_or_else(|| anyhow!("an edge node has no key of its own"))?;
            println!("{key}");
        }
        KeyAction::Create { common, role, write, source, name } => {
            let settings = load_settings(&common, None)?;
            let kind = if write { "write" } else { "secret" };
            let cmd = keys::CreateKey::parse(&name, Some(kind), role.as_deref(), source.as_deref())
                .map_err(|e| anyhow!(e.message))?;
            let store = open_store(&settings).await?;
            let issued =
                keys::create_key(&store, &cmd, "cli", chrono::Utc::now()).await.map_err(|e| anyhow!(e.message))?;
            println!("{}", issued.secret);
            eprintln!("created {} ({}); the key above is shown only once", issued.record.id, cmd.kind.to_json());
            store.close().await;
        }
        KeyAction::RotatePii { common, check, resume } => rotate(&common, check, resume).await?,
        KeyAction::List { common } => {
            let settings = load_settings(&common, None)?;
            let store = open_store(&settings).await?;
            for k in store.keys().list_keys().await? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\t{}…\t{}\t{}", k.id, k.kind.to_json(), k.prefix, k.name, state);
            }
            store.close().await;
        }
    }
    Ok(())
}

/// A new data key, learnt by running nodes before anything is sealed with
/// it, then every stored value sealed again under it (docs/SECURITY.md).
async fn rotate(common: &Common, check: bool, resume: bool) -> anyhow::Result<()> {
    let settings = load_settings(common, None)?;
    let store = open_store(&settings).await?;
    let wait = 3 * beacon_store::KEY_REFRESH;
    if !check && !resume {
        let id = store.add_data_key().await?;
        eprintln!("made data key {id}; waiting {wait:?} for running nodes to learn it");
        tokio::time::sleep(wait).await;
        store.use_data_key(id).await?;
        eprintln!("new personal data is sealed under key {id}; waiting {wait:?} for running nodes to follow");
        tokio::time::sleep(wait).await;
    }
    let current = store.pii().current_data_key();
    if !check {
        for (table, moved) in store.reseal_all().await? {
            println!("{table}: {moved} values sealed again under key {current}");
        }
    }
    let usage = store.data_key_usage().await?;
    for (key, values) in &usage {
        println!("key {key}: {values} values{}", if *key == current { " (current)" } else { "" });
    }
    store.close().await;
    let left: u64 = usage.iter().filter(|(k, _)| **k != current).map(|(_, n)| n).sum();
    if left > 0 && !check {
        anyhow::bail!(
            "{left} values are still under older keys (changed while this ran): run `beacon keys rotate-pii --continue`"
        );
    }
    Ok(())
}
