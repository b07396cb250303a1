//! Segments as marketers use them: a condition read from its text or JSON
//! form, estimated over every profile (`beacon_segment::batch` over the
//! store's scans, which run at once), saved with its members decided from
//! scratch, its count history, members and the segments of a profile.

use super::{App, AppResult};
use crate::processor::segments::{SegmentIndex, Touch};
use beacon_core::{Error, ErrorCode, ProfileId};
use beacon_segment::Condition;
use beacon_segment::batch::{self, Answers, Population as _, Scan};
use beacon_segment::columns::EventColumns;
use beacon_store::{MembersChanged, StoredSegment, internal_error};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidSegment, message)
}

/// Reads a condition from exactly one of its forms, checked.
pub fn read(text: Option<&str>, definition: Option<&Value>) -> AppResult<Condition> {
    let condition = match (text, definition) {
        (Some(text), None) => beacon_segment::parse(text).map_err(|e| {
            invalid(format!("the text does not read: {e}")).with_details(json!({
                "position": e.position, "expected": e.expected, "found": e.found,
            }))
        })?,
        (None, Some(definition)) => serde_json::from_value::<Condition>(definition.clone())
            .map_err(|e| invalid(format!("the definition is not a condition: {e}")))?,
        _ => return Err(invalid("give the condition as text or as definition (one of them)")),
    };
    condition.validate().map_err(|e| invalid(e.to_string()).with_details(json!({"path": e.path})))?;
    Ok(condition)
}

/// The saved segments a condition names, each once.
fn named(c: &Condition, out: &mut BTreeSet<String>) {
    match c {
        Condition::All(items) | Condition::Any(items) => items.iter().for_each(|c| named(c, out)),
        Condition::Not(inner) => named(inner, out),
        Condition::InSegment(id) => {
            out.insert(id.clone());
        }
        _ => {}
    }
}

/// Every segment `c` names exists, and none of them names `own` (through
/// any chain): a segment cannot be decided from itself.
async fn check_references(app: &App, c: &Condition, own: Option<&str>) -> AppResult<()> {
    let mut todo = BTreeSet::new();
    named(c, &mut todo);
    let mut seen = BTreeSet::new();
    while let Some(id) = todo.pop_first() {
        if Some(id.as_str()) == own {
            return Err(invalid(format!("segment {id:?} would be decided from itself")));
        }
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(s) = app.store.segments().get_segment(&id).await? else {
            return Err(invalid(format!("there is no segment {id:?}")));
        };
        let inner: Condition = serde_json::from_value(s.definition).map_err(internal_error)?;
        named(&inner, &mut todo);
    }
    Ok(())
}

/// Who is in a condition at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// Live profiles in all.
    pub profiles: usize,
    /// The members' ids, in no particular order.
    pub members: Vec<String>,
}

/// Decides `c` at `now` over every live profile: events counted in the
/// columns this process holds ([`super::held`]) when it holds them, every
/// other leaf by the store's query.
pub async fn decide(app: &App, c: &Condition, now: DateTime<Utc>) -> AppResult<Decided> {
    let facts = app.store.segment_facts();
    let held = app.held.ready().then(|| app.held.clone());
    let (columns, asked): (Vec<Scan>, Vec<Scan>) =
        batch::scans(c, now).into_iter().partition(|s| held.is_some() && EventColumns::answers(s));
    let rows = futures_util::future::join_all(asked.iter().map(|s| facts.scan(s))).await;
    let mut answers = Answers::new();
    for (scan, rows) in asked.into_iter().zip(rows) {
        answers.insert(scan, rows?);
    }
    if let Some(held) = held {
        let c = c.clone();
        let decided = tokio::task::spawn_blocking(move || {
            held.read(|held| {
                for scan in columns {
                    if let Some(rows) = held.answer(&scan) {
                        answers.insert(scan, rows);
                    }
                }
                let flags = batch::decide_over(&c, now, held, &answers)?;
                let members = (0..flags.len()).filter(|&i| flags[i] && held.is_live(i)).map(|i| held.id(i).to_string());
                Ok(Decided { profiles: held.live(), members: members.collect() })
            })
        })
        .await
        .map_err(internal_error)?;
        // loaded columns stay loaded: `read` answers
        let decided = decided.ok_or_else(|| internal_error("the event columns were unloaded"))?;
        return decided.map_err(|e: batch::Unanswered| internal_error(e));
    }
    let live = facts.live_profiles().await?;
    let flags = batch::decide(c, now, &live, &answers).map_err(internal_error)?;
    let profiles = live.len();
    let members = live.into_iter().zip(flags).filter(|(_, is_in)| *is_in).map(|(p, _)| p).collect();
    Ok(Decided { profiles, members })
}

/// How many profiles an unsaved condition selects now, and some of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub count: usize,
    /// Live profiles in all.
    pub profiles: usize,
    /// Up to the size asked for, spread over the members (sorted by id).
    pub sample: Vec<String>,
}

pub async fn estimate(app: &App, c: &Condition, sample: usize) -> AppResult<Estimate> {
    check_references(app, c, None).await?;
    let Decided { profiles, members } = decide(app, c, app.now()).await?;
    let step = members.len().div_ceil(sample.max(1)).max(1);
    let mut sample: Vec<String> = members.iter().step_by(step).take(sample).cloned().collect();
    sample.sort_unstable();
    Ok(Estimate { count: members.len(), profiles, sample })
}

/// A segment as asked for: its id (made up when none), name, description
/// and condition.
#[derive(Debug, Clone)]
pub struct SegmentInput {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub condition: Condition,
}

fn checked_id(id: Option<String>) -> AppResult<String> {
    let Some(id) = id else { return Ok(format!("seg-{}", uuid::Uuid::now_v7().simple())) };
    let ok = (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        return Err(invalid("an id is 1 to 64 of a-z, 0-9, - and _, starting with a letter or digit"));
    }
    Ok(id)
}

fn checked_name(name: &str) -> AppResult<()> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(invalid("a segment's name is 1 to 200 characters"));
    }
    Ok(())
}

fn definition_of(c: &Condition) -> AppResult<Value> {
    serde_json::to_value(c).map_err(internal_error)
}

/// Saves a new segment and decides its members.
pub async fn create(app: &App, input: SegmentInput, actor: &str) -> AppResult<StoredSegment> {
    let id = checked_id(input.id)?;
    checked_name(&input.name)?;
    check_references(app, &input.condition, Some(&id)).await?;
    let now = app.now();
    let segment = StoredSegment {
        id,
        name: input.name.trim().to_string(),
        description: input.description,
        definition: definition_of(&input.condition)?,
        status: "active".into(),
        version: 1,
        members: 0,
        evaluated_at: None,
        created_by: actor.to_string(),
        created_at: now,
        updated_at: now,
    };
    let made = app.store.segments().create_segment(&segment, actor).await?;
    refresh_stored(app, &made).await?;
    get(app, &made.id).await
}

/// Replaces a segment's name, description and condition (if it is still at
/// `if_version` when given) and decides its members again.
pub async fn replace(
    app: &App,
    id: &str,
    input: SegmentInput,
    if_version: Option<i64>,
    actor: &str,
) -> AppResult<StoredSegment> {
    let current = get(app, id).await?;
    if input.id.as_deref().is_some_and(|given| given != id) {
        return Err(invalid("the body's id is not the one in the path"));
    }
    checked_name(&input.name)?;
    check_references(app, &input.condition, Some(id)).await?;
    let changed = StoredSegment {
        name: input.name.trim().to_string(),
        description: input.description,
        definition: definition_of(&input.condition)?,
        updated_at: app.now(),
        ..current.clone()
    };
    let saved = app.store.segments().update_segment(&changed, if_version.unwrap_or(current.version), actor).await?;
    if saved.status == "active" {
        refresh_stored(app, &saved).await?;
    }
    get(app, id).await
}

/// Archives a segment (its members stop being kept) or makes an archived
/// one active again (its members decided afresh).
pub async fn set_status(app: &App, id: &str, status: &str, actor: &str) -> AppResult<StoredSegment> {
    let current = get(app, id).await?;
    if current.status == status {
        return Ok(current);
    }
    let changed = StoredSegment { status: status.to_string(), updated_at: app.now(), ..current.clone() };
    let saved = app.store.segments().update_segment(&changed, current.version, actor).await?;
    if status == "active" {
        refresh_stored(app, &saved).await?;
    }
    get(app, id).await
}

pub async fn get(app: &App, id: &str) -> AppResult<StoredSegment> {
    app.store.segments().get_segment(id).await?.ok_or_else(|| Error::new(ErrorCode::NotFound, "no such segment"))
}

/// Decides a saved segment's members from scratch now: who entered, who left.
pub async fn refresh(app: &App, id: &str) -> AppResult<MembersChanged> {
    let segment = get(app, id).await?;
    if segment.status != "active" {
        return Err(Error::new(ErrorCode::Conflict, "an archived segment's members are not kept; activate it first"));
    }
    refresh_stored(app, &segment).await
}

async fn refresh_stored(app: &App, segment: &StoredSegment) -> AppResult<MembersChanged> {
    let condition: Condition = serde_json::from_value(segment.definition.clone()).map_err(internal_error)?;
    let now = app.now();
    let mut members = decide(app, &condition, now).await?.members;
    members.sort_unstable();
    let changed = app.store.segments().replace_members(&segment.id, segment.version, &members, now).await?;
    // the segments naming this one, for those who entered or left
    let index = index(app).await?;
    if index.is_named(&segment.id) {
        let moved = changed.entered.iter().chain(&changed.exited);
        let touch = Touch { segments: [segment.id.clone()].into(), ..Default::default() };
        redecide_many(app, &index, moved, touch).await?;
    }
    Ok(changed)
}

/// The saved segments a profile (an id merged away: its survivor) is in:
/// its id, and each segment with the time it entered.
pub async fn of_profile(app: &App, id: &str) -> AppResult<(String, Vec<(StoredSegment, DateTime<Utc>)>)> {
    let profile = super::profiles::by_id(app, id).await?;
    let id = profile.id.to_string();
    let mut out = Vec::new();
    for m in app.store.segments().profile_segments(&id).await? {
        if let Some(s) = app.store.segments().get_segment(&m.segment_id).await? {
            out.push((s, m.since));
        }
    }
    Ok((id, out))
}

/// The saved segments as the store has them (cached while its stamp holds).
pub(crate) async fn index(app: &App) -> AppResult<std::sync::Arc<SegmentIndex>> {
    let held = app.segment_index.lock().map_err(|_| internal_error("the segment cache is poisoned"))?.clone();
    let current = SegmentIndex::current(app.store.as_ref(), held).await?;
    *app.segment_index.lock().map_err(|_| internal_error("the segment cache is poisoned"))? = Some(current.clone());
    Ok(current)
}

/// A profile's timer came due: its time-bound segments are decided again.
pub async fn recheck(app: &App, profile: ProfileId) -> AppResult<()> {
    let index = index(app).await?;
    if index.is_empty() {
        return Ok(());
    }
    let tag = format!("t{}", app.now().timestamp_micros());
    redecide(app, &index, &[profile], Touch { timed: true, ..Default::default() }, &tag).await
}

/// Profiles whose tags changed outside the pipeline (by hand, a sweep, a
/// rule): the segments naming a tag decided again for them at once, as a
/// timer's recheck decides (a few hundred profiles a transaction).
pub async fn tags_changed(app: &App, profiles: &[String]) -> AppResult<()> {
    let index = index(app).await?;
    if !index.reads_tags() {
        return Ok(());
    }
    redecide_many(app, &index, profiles, Touch { tags: true, ..Default::default() }).await
}

/// Profiles whose wallet's coupons or points changed (a checkout used or
/// gave back a coupon or points, coupons were issued, points earned): the
/// segments reading them decided again for them at once, once the change
/// is committed (on the embedded store it is in another file than the
/// processor's, and read after).
pub async fn wallet_changed(app: &App, profiles: &[String]) -> AppResult<()> {
    let index = index(app).await?;
    if !index.reads_wallets() {
        return Ok(());
    }
    redecide_many(app, &index, profiles, Touch { wallet: true, ..Default::default() }).await
}

/// [`redecide`] for many profiles (given by id, each once), a few hundred
/// a transaction.
async fn redecide_many<'a>(
    app: &App,
    index: &SegmentIndex,
    profiles: impl IntoIterator<Item = &'a String>,
    touch: Touch,
) -> AppResult<()> {
    let ids: std::collections::BTreeSet<ProfileId> = profiles.into_iter().filter_map(|p| p.parse().ok()).collect();
    let ids: Vec<ProfileId> = ids.into_iter().collect();
    // (a decision's own mark: the same profile may enter again in the same instant)
    let tag = format!("d{}", super::log::fallback_message_id());
    for part in ids.chunks(500) {
        redecide(app, index, part, touch.clone(), &tag).await?;
    }
    Ok(())
}

/// Decides `profiles` again for what `touch` says changed, in a
/// transaction that waits for the processor's (its offset row, and the
/// profiles' locks as a partition's batch takes them), so the two never
/// decide the same membership from different facts at once.
async fn redecide(app: &App, index: &SegmentIndex, profiles: &[ProfileId], touch: Touch, tag: &str) -> AppResult<()> {
    let _turn = app.redeciding.lock().await;
    let mut tx = app.store.begin_processing(crate::processor::PROCESSOR).await?;
    tx.offset().await?;
    crate::processor::batch::lock_as_a_batch(tx.as_mut(), &[], profiles).await?;
    let now = app.now();
    let touched = profiles.iter().map(|p| (*p, touch.clone())).collect();
    crate::processor::segments::decide(tx.as_mut(), index, touched, now, tag).await?;
    tx.commit().await?;
    Ok(())
}
