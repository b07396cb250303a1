//! Group-buy teams (拼团) around the pure state machine
//! (`beacon_pricing::groupbuy`): an order with `group_buy` opens a team or
//! joins one in the same transaction as its checkout, written only if the
//! team is still at the version the join was worked out from (two buyers
//! racing for the last place: the second finds it full on its retry). A
//! task fails the teams whose time is up and refunds their members'
//! orders; a member's order cancelled while the team is open leaves it.

use super::Prepared;
use crate::app::{App, AppResult};
use beacon_core::Error;
use beacon_core::ErrorCode;
use beacon_pricing::Priced;
use beacon_pricing::groupbuy::{Effect, Step, Team, TeamError};
use beacon_store::{StoredTeam, TeamWrite};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// How often expired teams are looked for.
pub const EVERY: Duration = Duration::from_secs(1);

/// A team order: the group-buy, and the team to join (none: open one).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBuyRequest {
    pub promotion: String,
    #[serde(default)]
    pub team: Option<String>,
}

fn unavailable(message: impl Into<String>, reason: Value) -> Error {
    Error::new(ErrorCode::TeamUnavailable, message).with_details(json!({"reason": reason}))
}

fn refused(e: &TeamError) -> Error {
    let mut reason = json!({"code": e.code()});
    match e {
        TeamError::Full { max_members } => reason["max_members"] = json!(max_members),
        TeamError::Expired { expires_at } => reason["expires_at"] = json!(expires_at),
        _ => {}
    }
    unavailable(format!("the team cannot be joined: {}", e.code()), reason)
}

pub fn stored(team: &Team, version: i64) -> AppResult<StoredTeam> {
    Ok(StoredTeam {
        id: team.id.clone(),
        promotion: team.promotion.clone(),
        status: team.status.as_str().to_string(),
        expires_at: team.expires_at,
        state: serde_json::to_value(team).map_err(beacon_store::internal_error)?,
        version,
    })
}

fn parse(t: &StoredTeam) -> AppResult<Team> {
    serde_json::from_value(t.state.clone()).map_err(|e| beacon_store::internal_error(format!("team {}: {e}", t.id)))
}

/// A short, unguessable team code (shared as a link).
fn new_team_id() -> AppResult<String> {
    const MIXED: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut random = [0u8; 12];
    getrandom::fill(&mut random).map_err(|e| beacon_store::internal_error(format!("random numbers: {e}")))?;
    Ok(format!("T{}", random.iter().map(|b| MIXED[usize::from(*b) % MIXED.len()] as char).collect::<String>()))
}

/// Works out the team an order opens or joins: what to write with its
/// checkout, and the team as it will be.
pub async fn join(
    app: &App,
    prep: &Prepared,
    priced: &Priced,
    g: &GroupBuyRequest,
    order_id: &str,
) -> AppResult<(TeamWrite, Team, Vec<Effect>)> {
    let p = prep
        .snapshot
        .promotion(&g.promotion)
        .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no promotion {:?}", g.promotion)))?;
    let rules = p
        .group_buy
        .ok_or_else(|| Error::new(ErrorCode::InvalidCart, format!("promotion {:?} is not a group-buy", g.promotion)))?;
    if !priced.applied.iter().any(|a| a.id == p.id) {
        let json = priced.to_json();
        let why = json["rejected"].as_array().into_iter().flatten().find(|r| r["id"] == p.id.as_str());
        let reason = why.map_or_else(|| json!({"code": "no_matching_lines"}), |r| r["reason"].clone());
        return Err(unavailable("the group price does not apply to this order", reason));
    }
    let who = &prep.cart.who;
    let buyer = who.profile.clone().or_else(|| who.identities.first().cloned()).ok_or_else(|| {
        unavailable("a team order needs a buyer (a profile id or an identity)", json!({"code": "customer_required"}))
    })?;
    match &g.team {
        None => {
            let (team, effects) = rules.open(&new_team_id()?, &p.id, &buyer, order_id, prep.now);
            Ok((TeamWrite { team: stored(&team, 1)?, expected_version: None }, team, effects))
        }
        Some(id) => {
            let found = app.store.promotions().get_team(id).await?;
            let current = found.ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no team {id:?}")))?;
            if current.promotion != p.id {
                return Err(unavailable(
                    format!("team {id:?} is of group-buy {:?}", current.promotion),
                    json!({"code": "other_group_buy"}),
                ));
            }
            let step = Step::Join { buyer, order_id: order_id.to_string() };
            let (team, effects) = parse(&current)?.step(&step, prep.now).map_err(|e| refused(&e))?;
            let write =
                TeamWrite { team: stored(&team, current.version + 1)?, expected_version: Some(current.version) };
            Ok((write, team, effects))
        }
    }
}

pub fn team_json(t: &Team) -> Value {
    json!({
        "id": t.id, "promotion": t.promotion, "status": t.status.as_str(),
        "min_members": t.min_members, "max_members": t.max_members, "member_count": t.members.len(),
        "places_left": t.places_left(), "opened_at": t.opened_at, "expires_at": t.expires_at,
        "completed_at": t.completed_at,
    })
}

/// Reads a stored team for the API.
pub fn view(t: &StoredTeam) -> AppResult<Value> {
    Ok(team_json(&parse(t)?))
}

/// The teams a customer opened or joined, newest first: a merged-away id
/// reads its survivor's; an erased or unknown one is not found.
pub async fn of_profile(app: &App, id: &str) -> AppResult<(String, Vec<Value>)> {
    let profile = crate::app::profiles::by_id(app, id).await?;
    let id = profile.id.to_string();
    // a checkout without a profile named its buyer by an identity's key
    let keys: Vec<String> = profile.identities.iter().map(|i| app.store.identity_key(i)).collect();
    let teams = app.store.promotions().member_teams(&id, &keys, 100).await?;
    Ok((id, teams.iter().map(view).collect::<AppResult<Vec<_>>>()?))
}

/// A member's order was cancelled: it leaves its team if the team is still open.
pub async fn leave(
    store: &dyn beacon_store::Store,
    team_id: &str,
    order_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    for _ in 0..5 {
        let Some(current) = store.promotions().get_team(team_id).await? else { return Ok(()) };
        let step = Step::Leave { order_id: order_id.to_string() };
        let Ok((team, _)) = parse(&current)?.step(&step, now) else { return Ok(()) };
        if store.promotions().update_team(&stored(&team, current.version + 1)?, current.version).await? {
            return Ok(());
        }
    }
    Err(Error::new(ErrorCode::Conflict, format!("team {team_id} kept changing")))
}

/// Ends the teams whose time is up: complete alone, or failed with every
/// member's order refunded (an `Order Refunded` event each, written once).
/// A failed team is `refunding` in the store until its refunds are written,
/// so a node that stops in between leaves them to the next round.
pub async fn expire(app: &App, now: chrono::DateTime<Utc>) -> AppResult<usize> {
    let mut done = 0;
    for current in app.store.promotions().expired_teams(now, 200).await? {
        let team = parse(&current)?;
        let (team, version) = if current.status == "refunding" {
            (team, current.version)
        } else {
            let Ok((team, effects)) = team.step(&Step::Expire, now) else { continue };
            let mut next = stored(&team, current.version + 1)?;
            if effects.iter().any(|e| matches!(e, Effect::Refund { .. })) {
                next.status = "refunding".into();
            }
            // a join in flight moved it on: the next round sees it again
            if !app.store.promotions().update_team(&next, current.version).await? {
                continue;
            }
            done += 1;
            if next.status != "refunding" {
                continue;
            }
            (team, next.version)
        };
        refund(app, &team, now).await?;
        app.store.promotions().update_team(&stored(&team, version + 1)?, version).await?;
    }
    Ok(done)
}

/// An `Order Refunded` event for every member's order (the message id makes a retry a no-op).
async fn refund(app: &App, team: &Team, now: chrono::DateTime<Utc>) -> AppResult<()> {
    let mut records = Vec::new();
    for m in &team.members {
        let Some(c) = app.store.promotions().get_checkout(&m.order_id).await? else { continue };
        let Some(order) = &c.record.order else { continue };
        let id = format!("team-refund:{}:{}", team.id, m.order_id);
        records.push(crate::app::records::refund_record(
            &order.to_map(),
            &id,
            "group-buy team failed (拼团失败)",
            now,
        )?);
    }
    if !records.is_empty() {
        crate::app::log::append(app, records).await?;
    }
    Ok(())
}
