//! Points (积分) around the pure program and lots (`beacon_pricing::loyalty`,
//! `beacon_pricing::points`): the program as the shop set it (cached for a
//! second), a buyer's balance and tier for pricing, and a task that follows
//! the processed events — orders earn (once per order), refunds and
//! cancellations take back what the refunded part earned (a debt if it was
//! spent) and give back the points a cancelled order redeemed (once), and
//! events such as reviews earn up to a number a day.

use crate::app::{App, AppResult, jobs};
use beacon_core::commerce::order::OrderStatus;
use beacon_pricing::limits::{POINTS_OWNER, Subject, keys_of};
use beacon_pricing::loyalty::{Program, ProgramSpec};
use beacon_pricing::points::{Lot, balance};
use beacon_store::{StoredLot, StoredProgram};
use chrono::{DateTime, Duration, Months, Utc};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How stale the program may be on a node that did not change it.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);
/// The retired follower's offset in the store.
const FOLLOWER: &str = "points";

/// The compiled program for pricing, read again at most once a second.
/// An invalidation wins over a read that raced it (the generation), so a
/// program just changed on this node is never shadowed by the old one.
#[derive(Default)]
pub struct ProgramCache {
    held: Mutex<Option<(Instant, Option<Arc<Program>>)>>,
    generation: std::sync::atomic::AtomicU64,
}

impl ProgramCache {
    pub fn invalidate(&self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        *held = None;
    }

    pub async fn get(&self, app: &App) -> AppResult<Option<Arc<Program>>> {
        if let Some((at, p)) = self.held.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && at.elapsed() < RECHECK
        {
            return Ok(p.clone());
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let program = current(app).await?;
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(std::sync::atomic::Ordering::Acquire) == generation {
            *held = Some((Instant::now(), program.clone()));
        }
        Ok(program)
    }
}

/// The program as stored now (jobs decide by this, not by a cache that may
/// be a second behind another node's change).
pub async fn current(app: &App) -> AppResult<Option<Arc<Program>>> {
    let stored = app.store.loyalty().program().await?;
    Ok(stored.as_ref().map(|p| compile(p, app)).transpose()?.map(Arc::new))
}

pub fn compile(p: &StoredProgram, app: &App) -> AppResult<Program> {
    ProgramSpec::parse(&p.spec.to_string())?.compile(app.rules.currency)
}

pub fn lot(l: &StoredLot) -> Lot {
    Lot {
        id: l.id.clone(),
        points: l.points,
        left: l.left,
        earned_at: l.earned_at,
        vests_at: l.vests_at,
        expires_at: l.expires_at,
    }
}

/// The window tiers count in, ending at `now`.
pub fn tier_window(p: &Program, now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(p.tier_window_months)).unwrap_or(now)
}

/// A profile's tier by the program: points earned in the window, or net
/// spend (orders less refunds, in the shop currency, all time).
pub async fn tier(
    app: &App,
    p: &Program,
    profile: &beacon_core::profile::Profile,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    if p.tiers.is_empty() {
        return Ok(None);
    }
    let measure = match p.tier_basis {
        beacon_pricing::loyalty::TierBasis::Points => {
            app.store.loyalty().earned(&profile.id.to_string(), tier_window(p, now), now + Duration::seconds(1)).await?
        }
        beacon_pricing::loyalty::TierBasis::Spend => {
            profile.orders.by_currency.get(p.currency.code()).map_or(0, |(_, net)| *net)
        }
    };
    Ok(p.tier_for(measure).map(str::to_string))
}

/// The most points the program's redemption limits still let this buyer
/// redeem at `now` (none without limits; 0 for a limit whose scope the buyer
/// has nothing to count by), and each limit's counters with the limit.
pub async fn redemption_room(
    app: &App,
    p: &Program,
    who: &Subject,
    now: DateTime<Utc>,
) -> AppResult<(Option<i64>, Vec<(Vec<String>, i64)>)> {
    if p.redeem_limits.is_empty() {
        return Ok((None, Vec::new()));
    }
    let offset = app.settings.utc_offset_seconds();
    let limits: Vec<(Vec<String>, i64)> = p
        .redeem_limits
        .iter()
        .enumerate()
        .map(|(i, l)| (keys_of(POINTS_OWNER, i, l, who, None, now, offset), l.limit))
        .collect();
    let all: Vec<String> = limits.iter().flat_map(|(keys, _)| keys.iter().cloned()).collect();
    let used = app.store.promotions().counters(&all).await?;
    let room = limits
        .iter()
        .map(|(keys, max)| match keys.is_empty() {
            true => 0,
            false => max - keys.iter().filter_map(|k| used.get(k)).copied().max().unwrap_or(0),
        })
        .min();
    Ok((room.map(|r| r.max(0)), limits))
}

/// A new lot earned at `at`, vesting after the program's window and expiring after its months.
fn new_lot(
    p: &Program,
    id: String,
    profile: &str,
    source: &str,
    order: Option<&str>,
    points: i64,
    at: DateTime<Utc>,
) -> StoredLot {
    let vests_at = at + Duration::days(p.vesting_days);
    StoredLot {
        id,
        profile_id: profile.to_string(),
        source: source.to_string(),
        order_id: order.map(str::to_string),
        earned: points,
        points,
        left: points,
        earned_at: at,
        vests_at,
        expires_at: p.expiry_months.and_then(|m| vests_at.checked_add_months(Months::new(m))),
    }
}

fn order_id(payload: &str) -> Option<String> {
    let v: Value = serde_json::from_str(payload).ok()?;
    match &v["properties"]["order_id"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An order event's job: the order's lot settled (earned when `completed`
/// and the program trusts `source`).
pub async fn order_changed(app: &App, order_id: &str, completed: bool, source: &str) -> AppResult<()> {
    let Some(program) = current(app).await? else { return Ok(()) };
    let earns = completed && program.trusts(source);
    // jobs of one order may run at once on two workers: the one that earns
    // settles again if the order moved while it worked (a refund's job that
    // found no lot yet left the clawback to it)
    let mut after = None;
    for _ in 0..3 {
        let before = app.store.orders().get_order(order_id).await?;
        settle_order(app, &program, order_id, earns).await?;
        after = app.store.orders().get_order(order_id).await?;
        let same = |a: &Option<beacon_store::Order>, b: &Option<beacon_store::Order>| {
            a.as_ref().map(|o| (o.status, o.refunded_minor)) == b.as_ref().map(|o| (o.status, o.refunded_minor))
        };
        if same(&before, &after) {
            break;
        }
    }
    // its points moved: the segments reading them
    match after {
        Some(o) => crate::app::segments::wallet_changed(app, &[o.profile_id.to_string()]).await,
        None => Ok(()),
    }
}

/// An earning event's job: the event at `seq`, received at `at` on
/// `profile` (or the profile it was merged into since), earns if the
/// program trusts `source`.
pub async fn event_earns(
    app: &App,
    seq: i64,
    name: &str,
    profile: beacon_core::ProfileId,
    source: &str,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let Some(program) = current(app).await? else { return Ok(()) };
    if !program.trusts(source) {
        return Ok(());
    }
    let owner = app.store.profiles().get_profile(profile).await?.map_or(profile, |p| p.id).to_string();
    earn_event(app, &program, seq, name, &owner, at).await?;
    crate::app::segments::wallet_changed(app, &[owner]).await
}

/// Upgrading from the follower that read order and earning events from the
/// events table: those it had not reached become outbox jobs (the
/// processor's keys, so none is queued twice), and it is retired. Without
/// a program there is nothing to follow (points are earned from its start).
pub async fn catch_up(app: &App) -> AppResult<usize> {
    let promotions = app.store.promotions();
    let mut after = promotions.follower_offset(FOLLOWER).await?;
    let program = current(app).await?;
    let mut queued = 0;
    if let Some(program) = program.filter(|_| after < super::RETIRED) {
        let mut names: Vec<String> =
            ["Order Completed", "Order Refunded", "Order Cancelled"].map(String::from).to_vec();
        names.extend(program.earn_per_event.iter().map(|(e, _, _)| e.clone()));
        loop {
            let events = app.store.loyalty().named_events_after(&names, after, 500).await?;
            let Some(last) = events.last().map(|e| e.seq) else { break };
            let jobs: Vec<beacon_store::NewJob> = events
                .iter()
                .filter_map(|e| {
                    let name = e.name.as_deref().unwrap_or("");
                    let (seq, source, at) = (e.seq, e.source_id.as_str(), e.received_at);
                    match name {
                        "Order Completed" | "Order Refunded" | "Order Cancelled" => order_id(&e.payload)
                            .map(|id| jobs::points_order(seq, &id, name == "Order Completed", source, true, app.now())),
                        _ => Some(jobs::points_event(seq, name, &e.profile_id.to_string(), source, at, app.now())),
                    }
                })
                .collect();
            queued += app.store.jobs().enqueue(beacon_store::Queue::Outbox, &jobs).await?;
            after = last;
            promotions.set_follower_offset(FOLLOWER, after).await?;
        }
    }
    promotions.set_follower_offset(FOLLOWER, super::RETIRED).await?;
    Ok(queued)
}

/// Brings an order's lot in line with the order: earned once (when
/// `earns`: an `Order Completed` from a trusted source), less the refunded
/// share of what it earned; the refunded share of its redeemed points given
/// back.
async fn settle_order(app: &App, p: &Program, order_id: &str, earns: bool) -> AppResult<()> {
    let Some(order) = app.store.orders().get_order(order_id).await? else { return Ok(()) };
    let gone = matches!(order.status, OrderStatus::Cancelled | OrderStatus::Refunded);
    // the share of the order that stands
    let share = |n: i64| -> i64 {
        if gone {
            0
        } else if order.total_minor <= 0 {
            n
        } else {
            let kept = (order.total_minor - order.refunded_minor).clamp(0, order.total_minor);
            (i128::from(n) * i128::from(kept) / i128::from(order.total_minor)) as i64
        }
    };
    let id = format!("order:{order_id}");
    let store = app.store.loyalty();
    match store.lot(&id).await? {
        None if earns => {
            let points = p.points_for_order(order.total_minor - order.refunded_minor);
            if points > 0 && !gone {
                let lot =
                    new_lot(p, id, &order.profile_id.to_string(), "order", Some(order_id), points, order.placed_at);
                store.add_lot(&lot, None).await?;
            }
        }
        // by the share of what it earned then, whatever the program says now
        Some(l) if l.points > share(l.earned) => {
            // a concurrent change moves the lot on: the next event of the order settles it
            store.claw_back(&id, l.points, l.points - share(l.earned)).await?;
        }
        _ => {}
    }
    if order.refunded_minor > 0 || gone {
        let Some(c) = app.store.promotions().get_checkout(order_id).await? else { return Ok(()) };
        let took = &c.record.points_takes;
        if took.is_empty() {
            return Ok(());
        }
        let redeemed = beacon_pricing::points::redeemed(took);
        let due = redeemed - share(redeemed);
        store.give_back_points(order_id, took, due, beacon_pricing::points::give_back, app.now()).await?;
    }
    Ok(())
}

/// An event that earns points (a review…), up to the rule's number a day in the shop's time zone.
/// `at` is when the server received it, not the time the sender claims (no back-dated earning).
async fn earn_event(app: &App, p: &Program, seq: i64, name: &str, profile: &str, at: DateTime<Utc>) -> AppResult<()> {
    let Some((points, most)) = p.points_for_event(name) else { return Ok(()) };
    let cap = most.map(|most| {
        let offset = Duration::seconds(i64::from(app.settings.utc_offset_seconds()));
        let local = (at + offset).date_naive();
        let start = local.and_hms_opt(0, 0, 0).map(|d| d.and_utc() - offset).unwrap_or(at);
        (start, start + Duration::days(1), most)
    });
    let lot = new_lot(p, format!("event:{seq}"), profile, name, None, points, at);
    app.store.loyalty().add_lot(&lot, cap).await?;
    Ok(())
}

/// A profile's points as the API shows them.
pub fn points_json(lots: &[StoredLot], now: DateTime<Utc>) -> Value {
    let pure: Vec<Lot> = lots.iter().map(lot).collect();
    let b = balance(&pure, now);
    let next = pure
        .iter()
        .filter(|l| l.left > 0 && l.vests_at <= now && l.expires_at.is_some_and(|e| now < e))
        .min_by_key(|l| l.expires_at);
    serde_json::json!({
        "available": b.available, "pending": b.pending, "debt": b.debt,
        "next_expiry": next.map(|l| serde_json::json!({"points": l.left, "expires_at": l.expires_at})),
        "lots": lots.iter().map(|l| serde_json::json!({
            "id": l.id, "source": l.source, "order_id": l.order_id, "points": l.points, "left": l.left,
            "earned_at": l.earned_at, "vests_at": l.vests_at, "expires_at": l.expires_at,
        })).collect::<Vec<_>>(),
    })
}
