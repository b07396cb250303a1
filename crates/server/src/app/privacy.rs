//! A person's rights over their data (PIPL, GDPR): who sees it, erasure
//! here; the copy of everything held is read by `api::privacy`.
//!
//! **Seeing**: personal data (`security.pii_keys`) is masked for roles not
//! in `security.pii_full_roles`; a full read of a person's personal data is
//! audited (`pii.read`, unless `security.audit_pii_reads` is off).
//!
//! **Erasure** runs as the processor would: in a processing transaction
//! that holds the log's offset (the processor on the store's own log waits)
//! and the locks a bus partition's batch takes for the person's identities
//! and profile (those batches wait). Before it commits, the bodies of the
//! person's events in the log are overwritten and the shop's records
//! (wallet, points, checkouts) cleaned; a crash before the commit leaves the
//! profile in place, and erasing it again finishes. A processor that still
//! holds the profile in its cache cannot write it back: a batch writing a
//! profile that is no longer stored fails as a conflict and is decided
//! again from the store (`require_stored`).

use super::{App, AppResult, profiles};
use crate::processor::{PROCESSOR, batch};
use beacon_core::access::Role;
use beacon_core::{Error, ErrorCode};
use beacon_store::NewAuditEntry;
use serde_json::{Value, json};

/// Erases the person profile `id` names (a merged-away id names its
/// survivor); answers what was removed. Audited as `profile.erase`.
pub async fn erase(app: &App, id: &str, actor: &str) -> AppResult<Value> {
    let profile = profiles::by_id(app, id).await?;
    let mut identities = profile.identities.clone();
    identities.extend(profile.unverified.iter().cloned());
    let mut tx = app.store.begin_processing(PROCESSOR).await?;
    tx.offset().await?;
    batch::lock_as_a_batch(tx.as_mut(), &identities, &[profile.id]).await?;
    let Some(erasure) = tx.erase(profile.id).await? else {
        return Err(Error::new(ErrorCode::NotFound, "no such profile"));
    };
    let bodies = app.store.log().erase(&erasure.seqs).await?;
    let shop = app.store.promotions().erase_shopper(&erasure.profiles, &erasure.orders).await?;
    tx.commit().await?;
    app.held.erased(&erasure.profiles);
    let mut removed = erasure.removed.clone();
    removed.extend(shop);
    let report = json!({
        "profile_id": profile.id,
        "erased": true,
        "profiles": erasure.profiles,
        "events": erasure.seqs.len(),
        "event_bodies_overwritten": bodies,
        "orders_kept_without_buyer": erasure.orders,
        "removed": removed,
    });
    // who asked, and what went: the profile's id and counts, nothing personal
    let entry = NewAuditEntry {
        at: app.now(),
        actor: actor.to_string(),
        action: "profile.erase".into(),
        target: format!("profile:{}", profile.id),
        before: Some(json!({"identities": identities.len(), "events": erasure.seqs.len()})),
        after: Some(report.clone()),
    };
    app.store.audit().append_audit(&entry).await?;
    Ok(report)
}

/// `view` (a profile, an event, or a page of them in `items`) as a caller
/// with `role` may see it. When it shows someone's personal data in full,
/// an audit entry says who read whose: `pii.read` on `profile:<id>` for one
/// person, on `profiles` with their ids in `after` for several.
pub async fn shown(app: &App, actor: &str, role: Role, mut view: Value) -> AppResult<Value> {
    let security = &app.settings.security;
    let keys = security.pii();
    if !security.pii_full_roles.iter().any(|r| r == role.as_str()) {
        beacon_core::mask::json(&mut view, &keys);
        return Ok(view);
    }
    if !security.audit_pii_reads {
        return Ok(view);
    }
    let single = [view.clone()];
    let items = view["items"].as_array().map_or(&single[..], Vec::as_slice);
    let mut people: Vec<&str> = Vec::new();
    for item in items {
        let mut masked = item.clone();
        beacon_core::mask::json(&mut masked, &keys);
        let who = item.get("profile_id").or_else(|| item.get("id")).and_then(Value::as_str);
        if let Some(who) = who.filter(|w| masked != *item && !people.contains(w)) {
            people.push(who);
        }
    }
    let (target, after) = match people.as_slice() {
        [] => return Ok(view),
        [one] => (format!("profile:{one}"), None),
        many => ("profiles".to_string(), Some(json!({"profiles": many}))),
    };
    let entry =
        NewAuditEntry { at: app.now(), actor: actor.into(), action: "pii.read".into(), target, before: None, after };
    app.store.audit().append_audit(&entry).await?;
    Ok(view)
}
