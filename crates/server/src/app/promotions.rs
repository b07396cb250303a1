//! Promotions as marketers change them: a spec checked against the shop's
//! currency (compiled as pricing will compile it), the lifecycle (draft →
//! scheduled → active → paused → ended, `beacon_pricing::lifecycle`), every
//! change audited in its transaction by the store, and the pricing snapshot
//! told at once.

use super::checkout::cache::compile;
use super::{App, AppResult};
use beacon_core::{Error, ErrorCode};
use beacon_pricing::lifecycle::{Action, transition};
use beacon_pricing::spec::Status;
use beacon_store::StoredPromotion;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

fn invalid(message: &str) -> Error {
    Error::new(ErrorCode::InvalidPromotion, message)
}

/// Checks a spec (`id` from the path, if any, must match the spec's); returns
/// it without `status`, and the status asked for (draft if none).
fn checked(app: &App, mut spec: Map<String, Value>, id: Option<&str>) -> AppResult<(Map<String, Value>, Status)> {
    let status = match spec.remove("status") {
        None => Status::Draft,
        Some(Value::String(s)) => match Status::parse(&s) {
            Some(st @ (Status::Draft | Status::Active | Status::Scheduled)) => st,
            _ => {
                return Err(invalid(
                    "status, when given, must be draft, scheduled or active (pause and end are actions)",
                ));
            }
        },
        Some(_) => return Err(invalid("status must be a string")),
    };
    if let Some(id) = id {
        match spec.get("id") {
            None => {
                spec.insert("id".into(), json!(id));
            }
            Some(v) if v == id => {}
            Some(_) => return Err(invalid("the spec's id is not the one in the path")),
        }
    }
    let now = app.now();
    let stored = StoredPromotion {
        id: spec.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
        status: status.as_str().into(),
        spec: Value::Object(spec.clone()),
        version: 0,
        created_at: now,
        updated_at: now,
    };
    compile(&stored, app.rules.currency)?;
    Ok((spec, status))
}

fn starts_at(spec: &Map<String, Value>) -> Option<DateTime<Utc>> {
    spec.get("starts_at").and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// Creates a promotion; one asked to be active from a future start is scheduled.
pub async fn create(app: &App, spec: Map<String, Value>, actor: &str) -> AppResult<StoredPromotion> {
    let (spec, mut status) = checked(app, spec, None)?;
    let id = spec.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let now = app.now();
    if status == Status::Active {
        status = transition(Status::Draft, Action::Activate, starts_at(&spec), now)?;
    }
    let made = app.store.promotions().create_promotion(&id, status.as_str(), &Value::Object(spec), actor, now).await?;
    app.promotions.invalidate();
    Ok(made)
}

/// Replaces a promotion's spec (its status changes only through [`act`]),
/// if it is still at `if_version` when given.
pub async fn replace(
    app: &App,
    id: &str,
    spec: Map<String, Value>,
    if_version: Option<i64>,
    actor: &str,
) -> AppResult<StoredPromotion> {
    let current = get(app, id).await?;
    if current.status == "ended" {
        return Err(Error::new(ErrorCode::Conflict, "an ended promotion cannot change; copy it into a new one"));
    }
    let had_status = spec.contains_key("status");
    let (spec, _) = checked(app, spec, Some(id))?;
    if had_status {
        return Err(invalid("status changes through /activate, /pause, /resume and /end, not in the spec"));
    }
    let version = if_version.unwrap_or(current.version);
    let saved = app
        .store
        .promotions()
        .update_promotion(id, version, &current.status, &Value::Object(spec), actor, app.now())
        .await?;
    app.promotions.invalidate();
    holders_again(app, &saved).await?;
    Ok(saved)
}

/// Moves a promotion along its lifecycle (`invalid_promotion` for a move
/// its status does not allow).
pub async fn act(app: &App, id: &str, action: Action, actor: &str) -> AppResult<StoredPromotion> {
    let current = get(app, id).await?;
    let from = Status::parse(&current.status)
        .ok_or_else(|| beacon_store::internal_error(format!("stored status {:?}", current.status)))?;
    let spec = current.spec.as_object().cloned().unwrap_or_default();
    let now = app.now();
    let to = transition(from, action, starts_at(&spec), now)?;
    let saved =
        app.store.promotions().update_promotion(id, current.version, to.as_str(), &current.spec, actor, now).await?;
    app.promotions.invalidate();
    holders_again(app, &saved).await?;
    Ok(saved)
}

/// A coupon template that changed (ended, its end moved) changes whether
/// its codes are usable: their holders are decided again for the segments
/// reading the wallet.
async fn holders_again(app: &App, p: &StoredPromotion) -> AppResult<()> {
    if p.spec.get("codes").is_none_or(Value::is_null) || !super::segments::index(app).await?.reads_wallets() {
        return Ok(());
    }
    let mut holders = std::collections::BTreeSet::new();
    let mut page = beacon_store::PageRequest { after: None, limit: 1000 };
    loop {
        let got = app.store.promotions().promotion_coupons(&p.id, &page).await?;
        holders.extend(got.items.into_iter().filter_map(|c| c.profile_id));
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    super::segments::wallet_changed(app, &holders.into_iter().collect::<Vec<_>>()).await
}

/// The stored promotion; `not_found` if there is none.
pub async fn get(app: &App, id: &str) -> AppResult<StoredPromotion> {
    app.store.promotions().get_promotion(id).await?.ok_or_else(|| Error::new(ErrorCode::NotFound, "no such promotion"))
}

/// One counter of a promotion's limits, as read from its key.
pub struct Usage {
    /// The limit's index in the spec's `limits` (none for a coupon
    /// template's own counters).
    pub limit_index: Option<usize>,
    /// `limit`, or a template's `code`, `issued` or `held`.
    pub counts: Option<String>,
    pub period: Option<String>,
    pub subject: Option<String>,
    /// The limit's `counter` in the spec (`redemptions`, `discount`, `units`…).
    pub counter: Option<String>,
    /// Used and allowed, in the counter's unit: a count, or for a
    /// `discount` budget an amount of `currency` (`"150.00"`).
    pub used: Value,
    pub max: Option<Value>,
    pub currency: Option<String>,
}

/// How much of each limit is used: one entry per counter (limit, period, subject).
pub async fn usage(app: &App, id: &str) -> AppResult<Vec<Usage>> {
    let p = get(app, id).await?;
    let limits = p.spec.get("limits").and_then(Value::as_array).cloned().unwrap_or_default();
    let counters = app.store.promotions().promotion_counters(id).await?;
    let prefix = format!("{id}|");
    Ok(counters
        .iter()
        .map(|(key, used)| {
            // <id>|<limit>|<period>|<subject>; the id itself may hold '|'
            let mut rest = key.strip_prefix(&prefix).unwrap_or(key).splitn(3, '|');
            let first = rest.next();
            let limit: Option<usize> = first.and_then(|l| l.parse().ok());
            let spec = limit.and_then(|l| limits.get(l));
            let counter = spec.and_then(|s| s.get("counter")).and_then(Value::as_str).map(str::to_string);
            let max = spec.and_then(|s| s.get("limit")).cloned();
            // a budget is counted in minor units and written in major ones
            let money = counter.as_deref() == Some("discount");
            let shop = app.rules.currency;
            let amount = |minor| json!(beacon_core::Money { minor, currency: shop }.to_decimal_string());
            let max_minor = |v: &Value| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                beacon_core::money::parse_minor(&text, shop.exponent).ok()
            };
            Usage {
                limit_index: limit,
                counts: if limit.is_some() { Some("limit".into()) } else { first.map(str::to_string) },
                period: rest.next().map(str::to_string),
                subject: rest.next().map(str::to_string),
                used: if money { amount(*used) } else { json!(used) },
                // a count as a number, however the spec wrote it
                max: match money {
                    true => max.as_ref().and_then(max_minor).map(amount),
                    false => max
                        .as_ref()
                        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok()))
                        .map(|n| json!(n)),
                },
                currency: money.then(|| shop.code().to_string()),
                counter,
            }
        })
        .collect())
}
