//! Validating [`Settings`]: every problem at once, before anything starts.

use super::{MAX_GROUP_RECORDS, Settings};
use beacon_core::IdentityKind;

impl Settings {
    /// What is wrong with these settings (empty: nothing).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.listen_addr().is_none() {
            p.push(format!("server.listen {:?} is not an address like 127.0.0.1:8080", self.server.listen));
        }
        if self.synchronous().is_none() {
            p.push(format!("storage.synchronous {:?} must be \"full\" or \"normal\"", self.storage.synchronous));
        }
        p.extend(crate::role::problems(self));
        p.extend(crate::http::Limits::problems(&self.server));
        p.extend(self.bus.problems(&self.storage.database_url));
        let url = &self.storage.database_url;
        if !url.is_empty() && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            p.push("storage.database_url must start with postgres:// (or be empty for the embedded store)".into());
        }
        if self.storage.max_connections == 0 {
            p.push("storage.max_connections must be at least 1".into());
        }
        if !(1..=65_536).contains(&self.storage.log_wal_mb) {
            p.push("storage.log_wal_mb must be 1 to 65536".into());
        }
        if self.storage.dedupe_window_days > 36_500 {
            p.push("storage.dedupe_window_days must be 0 (for ever) to 36500".into());
        }
        let cc = &self.identity.default_country_code;
        if cc.is_empty() || cc.len() > 3 || !cc.chars().all(|c| c.is_ascii_digit()) {
            p.push(format!("identity.default_country_code {cc:?} must be 1-3 digits, e.g. 86"));
        }
        for k in self.identity.unique_kinds.iter().chain(&self.identity.custom_kinds) {
            if let Err(e) = IdentityKind::parse(k) {
                p.push(format!("identity: {}", e.message));
            }
        }
        for k in &self.identity.custom_kinds {
            if IdentityKind::parse(k).is_ok_and(|kind| !matches!(kind, IdentityKind::Custom(_))) {
                p.push(format!("identity.custom_kinds: {k:?} is a built-in kind"));
            }
        }
        if beacon_core::zone::parse_utc_offset(&self.shop.utc_offset).is_none() {
            p.push(format!(
                "shop.utc_offset {:?} must be an offset such as +08:00, +05:45 or Z (whole quarter hours)",
                self.shop.utc_offset
            ));
        }
        if let Err(e) = self.lifecycle.check() {
            p.push(format!("lifecycle: {e}"));
        }
        if let Err(e) = self.tags.check() {
            p.push(e);
        }
        if self.currency().is_none() {
            p.push(format!("shop.currency {:?} must be an ISO-4217 code such as CNY", self.shop.currency));
        }
        if self.ingest.max_group_records > MAX_GROUP_RECORDS {
            p.push(format!("ingest.max_group_records must be at most {MAX_GROUP_RECORDS}"));
        }
        if !self.security.encryption_key.is_empty()
            && crate::app::keys::parse_master_key(&self.security.encryption_key).is_none()
        {
            p.push("security.encryption_key must be 32 bytes as 64 hex digits or base64".into());
        }
        if self.ingest.max_group_records == 0 || self.ingest.queue_capacity == 0 || self.ingest.processor_batch == 0 {
            p.push("ingest.max_group_records, queue_capacity and processor_batch must be at least 1".into());
        }
        if let Err(e) = beacon_core::pii_keys::PiiKeys::new(&self.security.pii_keys) {
            p.push(format!("security.pii_keys: {e}"));
        }
        if let Some(r) = self.security.pii_full_roles.iter().find(|r| beacon_core::access::Role::parse(r).is_none()) {
            p.push(format!("security.pii_full_roles: {r:?} is not admin, marketer, analyst or viewer"));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            p.push(format!("log.format {:?} must be \"text\" or \"json\"", self.log.format));
        }
        p
    }
}
