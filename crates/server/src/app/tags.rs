//! Tags: by hand (audited), by rule (every profile a condition selects)
//! and computed (`beacon_insight::tags`: basic, interest, spending power,
//! loyalty, risk). A sweeper decides the computed and rule tags every few
//! minutes and writes only what changed; a tag given by hand is never
//! changed by it (docs/INSIGHT.md, Tags).

use super::{App, AppResult, rfm};
use beacon_core::{Error, ErrorCode};
use beacon_insight::tags::{Family, OrderSignals, Sign, Signals, tags};
use beacon_segment::Condition;
use beacon_segment::batch::{Rows, Scan};
use beacon_store::tags::{COMPUTED, RULE};
use beacon_store::{NewAuditEntry, NewTag, ProfileTag, TagRule, internal_error};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

/// How often the computed and rule tags are decided again.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Tags and changes written per transaction.
const CHUNK: usize = 5000;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidParameter, message)
}

/// A tag is 1 to 64 characters, no control characters, no leading or trailing space.
pub fn checked_tag(tag: &str) -> AppResult<()> {
    let n = tag.chars().count();
    if n == 0 || n > 64 || tag.trim() != tag || tag.chars().any(char::is_control) {
        return Err(invalid("a tag is 1 to 64 characters without control characters or outer spaces"));
    }
    Ok(())
}

pub fn checked_family(family: Option<&str>) -> AppResult<Family> {
    match family {
        None => Ok(Family::Basic),
        Some(f) => Family::parse(f).ok_or_else(|| invalid("family is basic, interest, spending, loyalty or risk")),
    }
}

/// A profile's tags (an id merged away: its survivor's), by tag.
pub async fn of_profile(app: &App, id: &str) -> AppResult<(String, Vec<ProfileTag>)> {
    let profile = super::profiles::by_id(app, id).await?;
    let id = profile.id.to_string();
    let tags = app.store.tags().profile_tags(&id).await?;
    Ok((id, tags))
}

/// Tags a profile by hand; audited as `profile.tag`.
pub async fn put(app: &App, id: &str, tag: &str, family: Option<&str>, actor: &str) -> AppResult<ProfileTag> {
    checked_tag(tag)?;
    let family = checked_family(family)?;
    let profile = super::profiles::by_id(app, id).await?;
    let t = NewTag { profile_id: profile.id.to_string(), tag: tag.into(), family: family.key().into() };
    let now = app.now();
    let audit = NewAuditEntry {
        at: now,
        actor: actor.into(),
        action: "profile.tag".into(),
        target: format!("profile:{}", t.profile_id),
        before: None,
        after: Some(json!({"tag": tag, "family": family.key()})),
    };
    app.store.tags().put_tag(&t, now, &audit).await?;
    super::segments::tags_changed(app, std::slice::from_ref(&t.profile_id)).await?;
    let (_, tags) = of_profile(app, &t.profile_id).await?;
    tags.into_iter().find(|x| x.tag == tag).ok_or_else(|| internal_error("the tag just written is not there"))
}

/// Removes a tag from a profile, whatever gave it; audited as `profile.untag`.
pub async fn remove(app: &App, id: &str, tag: &str, actor: &str) -> AppResult<()> {
    let profile = super::profiles::by_id(app, id).await?;
    let audit = NewAuditEntry {
        at: app.now(),
        actor: actor.into(),
        action: "profile.untag".into(),
        target: format!("profile:{}", profile.id),
        before: Some(json!({"tag": tag})),
        after: None,
    };
    let id = profile.id.to_string();
    if !app.store.tags().remove_tag(&id, tag, &audit).await? {
        return Err(Error::new(ErrorCode::NotFound, "the profile has no such tag"));
    }
    super::segments::tags_changed(app, &[id]).await
}

/// Saves a tag rule (its tags follow at the next sweep, or at once with `sweep`).
pub async fn put_rule(
    app: &App,
    tag: &str,
    family: Option<&str>,
    condition: &Condition,
    actor: &str,
) -> AppResult<TagRule> {
    checked_tag(tag)?;
    let family = checked_family(family)?;
    let now = app.now();
    let created_at =
        app.store.tags().tag_rules().await?.into_iter().find(|r| r.tag == tag).map_or(now, |r| r.created_at);
    let rule = TagRule {
        tag: tag.into(),
        family: family.key().into(),
        definition: serde_json::to_value(condition).map_err(internal_error)?,
        created_by: actor.into(),
        created_at,
        updated_at: now,
    };
    app.store.tags().put_tag_rule(&rule, actor).await?;
    Ok(rule)
}

pub async fn delete_rule(app: &App, tag: &str, actor: &str) -> AppResult<()> {
    let held: Vec<String> =
        app.store.tags().tags_from(RULE).await?.into_iter().filter(|(_, t)| t == tag).map(|(p, _)| p).collect();
    if !app.store.tags().delete_tag_rule(tag, actor, app.now()).await? {
        return Err(Error::new(ErrorCode::NotFound, "no such tag rule"));
    }
    super::segments::tags_changed(app, &held).await
}

/// What one sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub added: usize,
    pub removed: usize,
}

/// Writes `want` as every tag from `source` (of `only` tags, if given): adds what is missing, removes the rest.
async fn replace(app: &App, source: &str, want: Vec<NewTag>, only: Option<&str>) -> AppResult<Swept> {
    let have: BTreeSet<(String, String)> =
        app.store.tags().tags_from(source).await?.into_iter().filter(|(_, t)| only.is_none_or(|o| o == t)).collect();
    let wanted: BTreeSet<(String, String)> = want.iter().map(|t| (t.profile_id.clone(), t.tag.clone())).collect();
    let add: Vec<NewTag> =
        want.into_iter().filter(|t| !have.contains(&(t.profile_id.clone(), t.tag.clone()))).collect();
    let remove: Vec<(String, String)> = have.difference(&wanted).cloned().collect();
    let now = app.now();
    let swept = Swept { added: add.len(), removed: remove.len() };
    for part in add.chunks(CHUNK) {
        app.store.tags().write_tags(source, part, &[], now).await?;
    }
    for part in remove.chunks(CHUNK) {
        app.store.tags().write_tags(source, &[], part, now).await?;
    }
    let changed: Vec<String> =
        add.into_iter().map(|t| t.profile_id).chain(remove.into_iter().map(|(p, _)| p)).collect();
    super::segments::tags_changed(app, &changed).await?;
    Ok(swept)
}

/// Each profile's traits the basic tags read.
async fn basic_traits(app: &App) -> AppResult<HashMap<String, Map<String, Value>>> {
    let mut out: HashMap<String, Map<String, Value>> = HashMap::new();
    for key in ["gender", "age", "birthday", "city"] {
        if let Rows::Values(rows) = app.store.segment_facts().scan(&Scan::Trait(key.into())).await? {
            for (id, v) in rows {
                out.entry(id).or_default().insert(key.into(), v);
            }
        }
    }
    Ok(out)
}

/// Decides every computed tag and every rule's tags now.
pub async fn sweep(app: &App) -> AppResult<Swept> {
    let now = app.now();
    let rules = &app.settings.tags;
    let table = rfm::table(app, None).await?;
    let today = table.as_of;
    // the buyers' clusters as the customer value screen shows them by default (k = 4, seed 0)
    let (_, clustered) = rfm::clusters(app, Some(today), 4, 0).await?;
    let mut stage_of: HashMap<&str, &str> = HashMap::new();
    let mut cluster_of: HashMap<&str, &str> = HashMap::new();
    let mut orders: HashMap<&str, OrderSignals> = HashMap::new();
    for (i, c) in table.customers.iter().enumerate() {
        if let Some(stage) = table.stages.get(i) {
            stage_of.insert(c.id.as_str(), stage.key());
        }
        if let Some(o) = table.orders.get(i) {
            orders.insert(c.id.as_str(), *o);
        }
        if let Some(cluster) = clustered.labels.get(i).and_then(|&l| clustered.clusters.get(l)) {
            cluster_of.insert(c.id.as_str(), cluster.name);
        }
    }
    let shared: HashMap<String, i64> = app.store.tags().shared_accounts().await?.into_iter().collect();
    let horizon = chrono::Duration::days(i64::from(rules.interest_half_life_days) * 6);
    let mut signs: HashMap<String, Vec<Sign>> = HashMap::new();
    for s in app.store.tags().interest_signs(now - horizon).await? {
        let days_ago = (now - s.at).num_seconds() as f64 / 86_400.0;
        signs.entry(s.profile_id).or_default().push(Sign {
            category: s.category,
            weight: f64::from(s.weight),
            days_ago,
        });
    }
    let traits = basic_traits(app).await?;
    let mut who: BTreeSet<&str> = traits.keys().map(String::as_str).collect();
    who.extend(shared.keys().map(String::as_str));
    who.extend(signs.keys().map(String::as_str));
    who.extend(table.customers.iter().map(|c| c.id.as_str()));
    let mut want = Vec::new();
    for id in who {
        let signals = Signals {
            traits: traits.get(id),
            rfm: table.of(id),
            orders: orders.get(id).copied().unwrap_or_default(),
            signs: signs.get(id).map_or(&[], Vec::as_slice),
            shared: shared.get(id).map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
            stage: stage_of.get(id).copied(),
            cluster: cluster_of.get(id).copied(),
        };
        for (family, tag) in tags(&signals, today, rules) {
            want.push(NewTag { profile_id: id.into(), tag, family: family.key().into() });
        }
    }
    let mut swept = replace(app, COMPUTED, want, None).await?;
    for rule in app.store.tags().tag_rules().await? {
        let condition: Condition = serde_json::from_value(rule.definition.clone()).map_err(internal_error)?;
        let members = super::segments::decide(app, &condition, now).await?.members;
        let want = members
            .into_iter()
            .map(|profile_id| NewTag { profile_id, tag: rule.tag.clone(), family: rule.family.clone() })
            .collect();
        let s = replace(app, RULE, want, Some(&rule.tag)).await?;
        swept.added += s.added;
        swept.removed += s.removed;
    }
    Ok(swept)
}
