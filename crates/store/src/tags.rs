//! Tags on profiles, each with its family and where it came from (`rule`,
//! `computed`, `manual`) and when; tag rules (a tag for every profile a
//! condition selects); and the signals computed tags are decided from.

use crate::{NewAuditEntry, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// Where a tag came from.
pub const MANUAL: &str = "manual";
pub const COMPUTED: &str = "computed";
pub const RULE: &str = "rule";

/// A tag on a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileTag {
    pub tag: String,
    pub family: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tag to give a profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NewTag {
    pub profile_id: String,
    pub tag: String,
    pub family: String,
}

/// How many profiles hold a tag, by where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagCount {
    pub tag: String,
    pub family: String,
    pub source: String,
    pub profiles: i64,
}

/// A tag given to every profile `definition` (a segment condition) selects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagRule {
    pub tag: String,
    pub family: String,
    pub definition: Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A sign of interest: a profile, a category, its weight (1 a view, 3 an
/// add to cart, 5 a bought line) and when.
#[derive(Debug, Clone, PartialEq)]
pub struct InterestSign {
    pub profile_id: String,
    pub category: String,
    pub weight: u8,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait TagStore: Send + Sync {
    /// A profile's tags, by tag.
    async fn profile_tags(&self, profile_id: &str) -> Result<Vec<ProfileTag>>;
    /// Tags a profile by hand (a computed or rule tag of that name becomes
    /// a hand-made one, kept until removed by hand); audited.
    async fn put_tag(&self, tag: &NewTag, at: DateTime<Utc>, audit: &NewAuditEntry) -> Result<()>;
    /// Removes a tag from a profile (whatever its source); audited. False
    /// when it had none.
    async fn remove_tag(&self, profile_id: &str, tag: &str, audit: &NewAuditEntry) -> Result<bool>;
    /// Every (profile, tag) from `source`.
    async fn tags_from(&self, source: &str) -> Result<Vec<(String, String)>>;
    /// Adds and removes tags from `source` in one transaction; a profile
    /// holding a tag from elsewhere keeps it as it is.
    async fn write_tags(
        &self,
        source: &str,
        add: &[NewTag],
        remove: &[(String, String)],
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Profiles per tag and source.
    async fn tag_counts(&self) -> Result<Vec<TagCount>>;
    async fn tag_rules(&self) -> Result<Vec<TagRule>>;
    /// Saves a rule (new or replacing the rule of its tag); audited.
    async fn put_tag_rule(&self, rule: &TagRule, actor: &str) -> Result<()>;
    /// Deletes a rule and the tags it gave; audited. False when there was none.
    async fn delete_tag_rule(&self, tag: &str, actor: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Per live profile sharing a device id, an anonymous id or a phone with
    /// other profiles: the most profiles on one of them (itself included).
    async fn shared_accounts(&self) -> Result<Vec<(String, i64)>>;
    /// Views and adds to cart (their `category` property) and bought
    /// lines (their category) after `since`.
    async fn interest_signs(&self, since: DateTime<Utc>) -> Result<Vec<InterestSign>>;
}
