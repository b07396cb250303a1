//! `[bus]`: where the event log lives when it is not the store's own.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusSettings {
    /// `nats://host:4222`: the event log on NATS JetStream, partitioned, so
    /// several workers process it side by side. Empty: the store's own log.
    pub nats_url: String,
    /// Partitions of the stream (fixed once events are in it): how many
    /// workers can process side by side.
    pub partitions: u32,
    /// The JetStream stream's name.
    pub stream: String,
    /// Its subjects are `<prefix>.<partition>`.
    pub subject_prefix: String,
}

impl Default for BusSettings {
    fn default() -> Self {
        BusSettings {
            nats_url: String::new(),
            partitions: 8,
            stream: "BEACON_EVENTS".into(),
            subject_prefix: "beacon.events".into(),
        }
    }
}

impl BusSettings {
    pub fn enabled(&self) -> bool {
        !self.nats_url.trim().is_empty()
    }

    /// What is wrong with these settings, with the store they go with.
    pub fn problems(&self, database_url: &str) -> Vec<String> {
        let mut p = Vec::new();
        if !self.enabled() {
            return p;
        }
        if !self.nats_url.trim().starts_with("nats://") {
            p.push("bus.nats_url must start with nats://".into());
        }
        if database_url.trim().is_empty() {
            p.push(
                "bus.nats_url needs a PostgreSQL store (storage.database_url): the partitions' \
                 offsets and state live there"
                    .into(),
            );
        }
        if !(1..=1024).contains(&self.partitions) {
            p.push("bus.partitions must be 1 to 1024".into());
        }
        let name_ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
        if !name_ok(&self.stream) {
            p.push("bus.stream must be letters, digits, - and _".into());
        }
        let prefix_ok = self.subject_prefix.split('.').all(name_ok);
        if !prefix_ok {
            p.push("bus.subject_prefix must be dot-separated words of letters, digits, - and _".into());
        }
        p
    }
}
