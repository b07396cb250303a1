//! One typed `Settings`: compiled-in defaults → optional TOML file →
//! `BEACON__SECTION__KEY` environment variables → command-line flags.
//! Validated once at start-up, every problem reported together.

pub use crate::role::ProcessRole;
use beacon_core::extract::IdentityRules;
use beacon_core::{Currency, IdentityKind, NormalizeOptions};
use beacon_store::Synchronous;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub ingest: IngestSettings,
    pub identity: IdentitySettings,
    pub shop: ShopSettings,
    /// The thresholds of the lifecycle stages (docs/INSIGHT.md).
    pub lifecycle: beacon_insight::lifecycle::Rules,
    pub segments: SegmentSettings,
    /// The thresholds of the computed tags (docs/INSIGHT.md).
    pub tags: beacon_insight::tags::TagRules,
    pub security: SecuritySettings,
    pub log: LogSettings,
    pub bus: crate::bus::BusSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SegmentSettings {
    /// On the embedded store, hold every profile's `track` events in memory
    /// (12 bytes an event) so segments count them without a query
    /// (docs/SEGMENTS.md); `false` leaves it to the store's queries.
    pub hold_events: bool,
}

impl Default for SegmentSettings {
    fn default() -> Self {
        SegmentSettings { hold_events: true }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShopSettings {
    /// ISO-4217 code of the money in e-commerce events that name no currency.
    pub currency: String,
    /// The shop's offset from UTC (`+08:00`): where its days, weeks and
    /// months start for promotion limits.
    pub utc_offset: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub listen: String,
    /// What this process runs: `all` (one process, the default), `api`
    /// (ingest and the API, stateless) or `worker` (the processor and the
    /// background workers). `api` and `worker` share a PostgreSQL store.
    pub role: String,
    /// The listener's limits (`crate::http`; docs/SETTINGS.md): seconds for
    /// a request's headers (and a kept-alive connection's idle wait), for
    /// its body, for requests in flight at shutdown; connections at once.
    pub header_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
    pub max_connections: u32,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    /// `postgres://…`; empty for the embedded store.
    pub database_url: String,
    /// `full` (fsync each commit: survives power loss) or `normal`.
    pub synchronous: String,
    pub max_connections: u32,
    /// Embedded: the size (MiB) past which the event log's WAL is started
    /// over once checkpointed, so it stays about this big under steady load
    /// (the state database's, past twice this).
    pub log_wal_mb: u64,
    /// Embedded: whole days a resent event (same source, messageId) is
    /// still dropped; 0 = for ever (memory ~18 B an event, without end).
    pub dedupe_window_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSettings {
    /// Most records one group commit writes.
    pub max_group_records: usize,
    /// Requests waiting for the writer before new ones get 503.
    pub queue_capacity: usize,
    /// Records the processor handles per transaction.
    pub processor_batch: u32,
    /// Under a steady trickle, how long the processor lets records gather
    /// before its next transaction (one transaction per few events costs more
    /// than the events). An idle processor still starts at once when woken.
    pub processor_linger_ms: u64,
    /// When behind, decide the next batch while the current one is written.
    /// Unset: on the embedded store only (processors on several nodes share
    /// one offset, and would decide the same batches).
    pub processor_overlap: Option<bool>,
    /// Run the processor in this process (turn off on ingest-only nodes).
    pub run_processor: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentitySettings {
    pub default_country_code: String,
    pub unique_kinds: Vec<String>,
    pub custom_kinds: Vec<String>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// 32 bytes, hex or base64. Empty: read or create `<data_dir>/encryption.key`.
    /// An edge node has none.
    pub encryption_key: String,
    /// On an edge node: the core's public key to seal personal data for
    /// (what `beacon keys edge-public` prints on a core node).
    pub edge_public_key: String,
    /// Requests per second per secret key (0 = unlimited).
    pub admin_rate_per_second: u32,
    /// Requests per second per write key (0 = unlimited).
    pub ingest_rate_per_second: u32,
    /// Keys whose values are personal data (`traits.KEY`: only within
    /// traits): encrypted at rest, masked for roles not in `pii_full_roles`
    /// (they see `138****8000`).
    pub pii_keys: Vec<String>,
    pub pii_full_roles: Vec<String>,
    /// Audit every full read of a person's personal data (`pii.read`).
    pub audit_pii_reads: bool,
    /// A console login lasts at most this long, active or not.
    pub session_hours: u32,
    /// A console login ends after this long without a request.
    pub session_idle_minutes: u32,
    /// Failed console logins allowed per minute, per email and per client
    /// address, before the next attempt must wait.
    pub login_attempts_per_minute: u32,
    /// Mark session cookies `Secure` always (they are whenever the request
    /// came over HTTPS through a proxy that says `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info,beacon_server=debug`.
    pub level: String,
}

impl SecuritySettings {
    /// `pii_keys` compiled (checked at start-up; the defaults if wrong).
    pub fn pii(&self) -> beacon_core::pii_keys::PiiKeys {
        beacon_core::pii_keys::PiiKeys::new(&self.pii_keys)
            .unwrap_or_else(|_| beacon_core::pii_keys::PiiKeys::defaults())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                listen: "127.0.0.1:8080".into(),
                role: "all".into(),
                ..crate::http::DEFAULT_LIMITS
            },
            storage: StorageSettings {
                data_dir: PathBuf::from("./beacon-data"),
                database_url: String::new(),
                synchronous: "normal".into(),
                max_connections: 8,
                log_wal_mb: 64,
                dedupe_window_days: 7,
            },
            ingest: IngestSettings {
                max_group_records: 5_000,
                queue_capacity: 1024,
                processor_batch: 20_000,
                processor_linger_ms: 10,
                processor_overlap: None,
                run_processor: true,
            },
            identity: IdentitySettings {
                default_country_code: "86".into(),
                unique_kinds: vec!["user_id".into()],
                custom_kinds: Vec::new(),
            },
            shop: ShopSettings { currency: "CNY".into(), utc_offset: "+08:00".into() },
            lifecycle: Default::default(),
            segments: Default::default(),
            tags: Default::default(),
            security: SecuritySettings {
                encryption_key: String::new(),
                edge_public_key: String::new(),
                admin_rate_per_second: 50,
                ingest_rate_per_second: 0,
                pii_keys: beacon_core::pii_keys::DEFAULT_PII_KEYS.iter().map(|k| k.to_string()).collect(),
                pii_full_roles: vec!["admin".into(), "marketer".into()],
                audit_pii_reads: true,
                session_hours: 12,
                session_idle_minutes: 120,
                login_attempts_per_minute: 5,
                secure_cookies: false,
            },
            log: LogSettings { format: "text".into(), level: "info".into() },
            bus: Default::default(),
        }
    }
}

/// Each section's defaults are the whole settings' defaults for it.
macro_rules! section_defaults {
    ($($ty:ty => $field:ident),* $(,)?) => {
        $(impl Default for $ty {
            fn default() -> Self {
                Settings::default().$field
            }
        })*
    };
}

section_defaults!(
    ServerSettings => server,
    StorageSettings => storage,
    IngestSettings => ingest,
    IdentitySettings => identity,
    SecuritySettings => security,
    ShopSettings => shop,
    LogSettings => log,
);

/// Secrets are never printed.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let db = if self.storage.database_url.is_empty() { "(embedded)" } else { "<redacted>" };
        f.debug_struct("Settings")
            .field("listen", &self.server.listen)
            .field("role", &self.server.role)
            .field("data_dir", &self.storage.data_dir)
            .field("database_url", &db)
            .field("synchronous", &self.storage.synchronous)
            .field("ingest", &self.ingest)
            .field("identity", &self.identity)
            .field("shop", &self.shop)
            .field("encryption_key", &"<redacted>")
            .field("log", &self.log)
            .field("bus", &(if self.bus.enabled() { "nats (url redacted)" } else { "(the store's log)" }))
            .finish()
    }
}

/// Largest group commit (one log chunk holds at most 2^20 records).
pub const MAX_GROUP_RECORDS: usize = 100_000;

impl Settings {
    pub fn role(&self) -> Option<ProcessRole> {
        ProcessRole::parse(&self.server.role)
    }

    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.server.listen.parse().ok()
    }

    pub fn synchronous(&self) -> Option<Synchronous> {
        match self.storage.synchronous.as_str() {
            "full" => Some(Synchronous::Full),
            "normal" => Some(Synchronous::Normal),
            _ => None,
        }
    }

    /// The shop's offset from UTC in seconds (validated at start-up).
    pub fn utc_offset_seconds(&self) -> i32 {
        beacon_core::zone::parse_utc_offset(&self.shop.utc_offset).unwrap_or(0)
    }

    /// The shop currency (validated at start-up; CNY if unreadable).
    pub fn currency(&self) -> Option<Currency> {
        Currency::parse(&self.shop.currency)
    }

    /// What the processor decides by.
    pub fn processor_rules(&self) -> crate::processor::Rules {
        crate::processor::Rules {
            identity: self.identity_rules(),
            currency: self.currency().unwrap_or(Currency::CNY),
            clock: std::sync::Arc::new(crate::app::SystemClock),
            overlap: self.ingest.processor_overlap.unwrap_or(self.storage.database_url.trim().is_empty()),
            held: None,
        }
    }

    pub fn identity_rules(&self) -> IdentityRules {
        IdentityRules {
            normalize: NormalizeOptions { default_country_code: self.identity.default_country_code.clone() },
            unique_kinds: self.identity.unique_kinds.iter().filter_map(|k| IdentityKind::parse(k).ok()).collect(),
            custom_kinds: self.identity.custom_kinds.clone(),
        }
    }
}

#[path = "settings_check.rs"]
mod check;

#[path = "settings_load.rs"]
mod load;
pub use load::{Overrides, SettingsError};

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
