//! The promotions port: stored promotion specs with their lifecycle, the
//! counters that limits are kept in, and the checkout commit that takes
//! from them atomically.

use crate::{Page, PageRequest, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// A promotion as stored: the spec JSON as the shop wrote it (without its
/// status, which is the `status` column's).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPromotion {
    pub id: String,
    pub status: String,
    pub spec: serde_json::Value,
    /// Bumped by every change (compare-and-set).
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a checkout adds to one counter: it must not pass `max`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CounterTake {
    pub key: String,
    pub amount: i64,
    pub max: i64,
    /// The promotion and what it counts (`redemptions`, `discount`, `units`),
    /// to give back the right share on a refund.
    #[serde(default)]
    pub promotion: String,
    #[serde(default)]
    pub counter: String,
}

/// A checkout: committed with all its takes, or none.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkout {
    pub idempotency_key: String,
    pub order_id: String,
    /// A hash of the request, so a key reused for another request is refused.
    pub request_hash: String,
    pub profile_id: Option<String>,
    pub takes: Vec<CounterTake>,
    /// What it committed (the order, its lines' shares, team, points) and
    /// the answer given, kept for retries.
    pub record: crate::CheckoutRecord,
    pub created_at: DateTime<Utc>,
    /// A group-buy team the order joins or opens (written only if the team
    /// is still at the version the join was worked out from).
    pub team: Option<crate::TeamWrite>,
    /// Points redeemed: (lot, points) taken from each lot (a negative take
    /// settles a debt), all or none.
    pub points: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckoutOutcome {
    Committed(Checkout),
    /// This idempotency key was committed before (with this request hash or
    /// another: the caller compares).
    Existing(Checkout),
    /// Another idempotency key already committed this order id.
    OrderTaken,
    /// This counter could not take the amount (nothing was written).
    LimitReached {
        key: String,
        used: i64,
        max: i64,
    },
    /// The team moved on (or its id is taken) since the join was worked out
    /// (nothing was written).
    TeamChanged,
    /// A points lot moved on since the redemption was worked out (nothing was written).
    PointsChanged,
}

/// Counters given back for one refund or cancellation.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterReturn {
    /// The refund's or cancellation's id: a second return with it does nothing.
    pub return_id: String,
    pub order_id: String,
    /// (counter key, amount) to subtract.
    pub takes: Vec<(String, i64)>,
    pub at: DateTime<Utc>,
}

/// A refund or cancellation of a checkout's order whose counters have not
/// been given back yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingReturn {
    /// The after-sales record's log position (its return id is `after_sale:<seq>`).
    pub seq: i64,
    pub kind: crate::AfterSaleKind,
    /// `[{"product_id", "sku", "quantity"}]` of a refund by line.
    pub lines: serde_json::Value,
    /// The order's status now.
    pub order_status: crate::OrderStatus,
    pub checkout: Checkout,
    /// What earlier returns gave back, per counter key.
    pub returned: HashMap<String, i64>,
}

/// The counter a unique code's one use is kept in (a checkout takes 1 of 1).
pub fn coupon_key(promotion: &str, code: &str) -> String {
    format!("{promotion}|code|total|coupon:{code}")
}

/// The counter of how many codes a template issued.
pub fn issued_key(promotion: &str) -> String {
    format!("{promotion}|issued|total|*")
}

/// The counter of how many codes of a template a profile was issued.
pub fn held_key(promotion: &str, profile_id: &str) -> String {
    format!("{promotion}|held|total|profile:{profile_id}")
}

/// A unique coupon code to issue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCoupon {
    /// Upper-cased.
    pub code: String,
    pub profile_id: Option<String>,
    /// Unique per template: issuing again with the same key returns the
    /// code issued the first time.
    pub issue_key: String,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// What a template may issue: at most `quantity` codes, at most
/// `per_profile` to one profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IssueLimits {
    pub quantity: i64,
    pub per_profile: i64,
}

/// An issued code as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCoupon {
    pub code: String,
    pub promotion: String,
    pub profile_id: Option<String>,
    /// `claim`, `operator`, `signup` or `journey`.
    pub channel: String,
    pub issued_at: DateTime<Utc>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Redeemed by an order that was not cancelled or fully refunded.
    pub used: bool,
}

/// What became of one code to issue.
#[derive(Debug, Clone, PartialEq)]
pub enum Issued {
    New(StoredCoupon),
    /// Its issue key was issued before: that code.
    Existing(StoredCoupon),
    /// The template has issued its `quantity`.
    QuantityReached {
        quantity: i64,
    },
    /// The profile holds `per_profile` codes of the template.
    ProfileLimitReached {
        held: i64,
    },
    /// Another code is already this one (draw again).
    CodeTaken,
}

#[async_trait]
pub trait PromotionStore: Send + Sync {
    /// Creates a promotion (audited `promotion.create`); `Conflict` if the id exists.
    async fn create_promotion(
        &self,
        id: &str,
        status: &str,
        spec: &serde_json::Value,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredPromotion>;
    /// Replaces a promotion's spec and/or status if it is still at `version`
    /// (audited with what changed); `Conflict` if it moved on, `NotFound`.
    async fn update_promotion(
        &self,
        id: &str,
        version: i64,
        status: &str,
        spec: &serde_json::Value,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredPromotion>;
    async fn get_promotion(&self, id: &str) -> Result<Option<StoredPromotion>>;
    async fn list_promotions(&self, status: Option<&str>, page: &PageRequest) -> Result<Page<StoredPromotion>>;
    /// Every promotion (for the pricing snapshot).
    async fn all_promotions(&self) -> Result<Vec<StoredPromotion>>;
    /// Changes whenever any promotion changes (count, sum of versions), so a
    /// node knows when to rebuild its snapshot.
    async fn promotions_stamp(&self) -> Result<(i64, i64)>;

    /// Every counter of a promotion's limits: (key, used), by key.
    async fn promotion_counters(&self, promotion_id: &str) -> Result<Vec<(String, i64)>>;
    /// The used amount of these counters (missing ones are 0 and left out).
    async fn counters(&self, keys: &[String]) -> Result<HashMap<String, i64>>;
    /// Commits checkouts, each on its own: one that reaches a limit leaves
    /// no trace and does not stop the others.
    async fn commit_checkouts(&self, checkouts: &[Checkout]) -> Result<Vec<CheckoutOutcome>>;
    async fn get_checkout(&self, order_id: &str) -> Result<Option<Checkout>>;
    async fn checkout_by_key(&self, idempotency_key: &str) -> Result<Option<Checkout>>;
    /// Checkouts committed from `after` to before `before` whose order is
    /// not recorded (the node stopped, or the log refused, between the
    /// commit and the order event), oldest first.
    async fn orphan_checkouts(&self, after: DateTime<Utc>, before: DateTime<Utc>, limit: u32) -> Result<Vec<Checkout>>;
    /// Gives counters back once per return id; false if it was given before.
    async fn return_counters(&self, r: &CounterReturn) -> Result<bool>;
    /// Applied refunds and cancellations after log position `after_seq` of
    /// orders placed through a checkout, not given back yet (oldest first).
    async fn pending_returns(&self, after_seq: i64, limit: u32) -> Result<Vec<PendingReturn>>;
    /// What was given back for an order so far.
    async fn counter_returns(&self, order_id: &str) -> Result<Vec<CounterReturn>>;

    /// Issues codes of template `promotion`, each on its own (in one
    /// transaction): one over a limit leaves no trace and does not stop the others.
    async fn issue_coupons(
        &self,
        promotion: &str,
        channel: &str,
        limits: IssueLimits,
        coupons: &[NewCoupon],
        at: DateTime<Utc>,
    ) -> Result<Vec<Issued>>;
    /// These codes (upper-cased), those that exist.
    async fn coupons(&self, codes: &[String]) -> Result<Vec<StoredCoupon>>;
    /// A profile's codes (with those of profiles merged into it), newest first, at most 1,000.
    async fn profile_coupons(&self, profile_id: &str) -> Result<Vec<StoredCoupon>>;
    /// A template's codes, oldest first.
    async fn promotion_coupons(&self, promotion: &str, page: &PageRequest) -> Result<Page<StoredCoupon>>;
    /// `Signed Up` events after log position `after`: (seq, profile id), oldest first.
    async fn signups_after(&self, after: i64, limit: u32) -> Result<Vec<(i64, String)>>;
    /// Where a follower of the log (by name) got to; 0 at first.
    async fn follower_offset(&self, name: &str) -> Result<i64>;
    async fn set_follower_offset(&self, name: &str, seq: i64) -> Result<()>;

    async fn get_team(&self, id: &str) -> Result<Option<crate::StoredTeam>>;
    /// Replaces a team if it is still at `expected_version` (the new one
    /// carries its next version); false if it moved on.
    async fn update_team(&self, team: &crate::StoredTeam, expected_version: i64) -> Result<bool>;
    /// A group-buy's teams with this status, soonest to expire first (at most `limit`).
    async fn teams(&self, promotion: &str, status: &str, limit: u32) -> Result<Vec<crate::StoredTeam>>;
    /// The teams a profile (or a profile merged into it, or a buyer named by
    /// one of its `identity_keys`, as a checkout without a profile names its
    /// buyer) is a member of, newest first (at most `limit`).
    async fn member_teams(
        &self,
        profile_id: &str,
        identity_keys: &[String],
        limit: u32,
    ) -> Result<Vec<crate::StoredTeam>>;
    /// Open teams whose time is up at `now`, and failed ones whose refunds
    /// are not all written yet (status `refunding`), soonest first.
    async fn expired_teams(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<crate::StoredTeam>>;
    /// An erased person's shop records: wallet coupons and points lots of
    /// `profiles` removed, the checkouts of `orders` without their buyer
    /// (sums kept). Answers rows changed, by table.
    async fn erase_shopper(
        &self,
        profiles: &[beacon_core::ProfileId],
        orders: &[String],
    ) -> Result<std::collections::BTreeMap<String, u64>>;
}
