//! The jobs port: work for later or elsewhere. Two queues of the same shape
//! — the **outbox** (a message is added once per key: a replayed batch
//! adds nothing twice) and durable **timers** (scheduling a key again moves
//! it) — whose due rows a worker claims with a lease; and named **leases**,
//! so a sweeper runs on one node of a cluster at a time.
//!
//! Delivery is at least once: a worker that dies holding a lease loses it
//! when the lease runs out, and another claims the row again. What a job
//! does must therefore be idempotent (the key helps).

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

/// Which queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Outbox,
    Timers,
}

/// A job to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Unique in its queue: the idempotency key (outbox) or the timer's name.
    pub key: String,
    /// What handles it (`coupons.signup`, `points`, `team.expire`…).
    pub topic: String,
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
}

/// A job claimed by a worker until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub key: String,
    pub topic: String,
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
    /// Claims so far, this one included.
    pub attempts: i64,
    pub lease_until: DateTime<Utc>,
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Adds jobs whose key the queue has never held (a key done or pending
    /// is left as it is); returns how many were added.
    async fn enqueue(&self, queue: Queue, jobs: &[NewJob]) -> Result<usize>;
    /// Adds jobs, or moves a key already held to the new due time and
    /// payload (a done one is armed again).
    async fn schedule(&self, queue: Queue, jobs: &[NewJob]) -> Result<()>;
    /// Removes a pending job; false if there was none.
    async fn cancel(&self, queue: Queue, key: &str) -> Result<bool>;
    /// Claims up to `limit` jobs of `topic` due at `now` and not leased (or
    /// whose lease ran out), soonest first, for `owner` until `now + lease`.
    /// Two claimers never get the same job while its lease runs.
    async fn claim(
        &self,
        queue: Queue,
        topic: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>>;
    /// Marks a job done, if `owner` still holds it.
    async fn complete(&self, queue: Queue, key: &str, owner: &str, now: DateTime<Utc>) -> Result<bool>;
    /// Gives a job back to run again at `at`, recording why, if `owner` still holds it.
    async fn retry(&self, queue: Queue, key: &str, owner: &str, error: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Forgets up to `limit` jobs done before `before` (their keys may be
    /// added again after that); returns how many.
    async fn purge_done(&self, queue: Queue, before: DateTime<Utc>, limit: u32) -> Result<u64>;
    /// Jobs of `topic` not done yet.
    async fn pending(&self, queue: Queue, topic: &str) -> Result<i64>;
    /// Jobs of `topic` not done yet and due by `now` (a timer set for later is not work left).
    async fn pending_due(&self, queue: Queue, topic: &str, now: DateTime<Utc>) -> Result<i64>;
    /// Takes the named lease for `owner` until `until`, or renews it; false
    /// while another owner holds it and it has not run out at `now`.
    async fn acquire_lease(&self, name: &str, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool>;
    /// The leases whose names start with `prefix` that have not run out at
    /// `now`, as (name, owner), by name.
    async fn leases(&self, prefix: &str, now: DateTime<Utc>) -> Result<Vec<(String, String)>>;
    /// Lets the lease go, if `owner` holds it.
    async fn release_lease(&self, name: &str, owner: &str) -> Result<()>;
}
