//! Who is buying: the profile a cart names (by id, or by an identity the
//! shop's back end vouches for), cached for previews; a profile id and
//! identities of another person together are refused.

use super::{CartRequest, invalid};
use crate::app::{App, AppResult};
use beacon_core::profile::Profile;
use beacon_core::{Identity, IdentityKind};
use std::sync::Arc;

pub(super) async fn buyer(app: &App, req: &CartRequest) -> AppResult<(Option<Profile>, Vec<Identity>)> {
    let (user, anonymous) = (req.user_id.as_deref(), req.anonymous_id.as_deref());
    let identities =
        crate::app::profiles::named_identities(app, user, anonymous, req.email.as_deref(), req.phone.as_deref())?;
    let named = identities.iter().map(|i| format!("{}:{}", i.kind, i.value)).collect::<Vec<_>>().join("\u{1f}");
    let key = match &req.profile_id {
        Some(id) => format!("profile:{id}\u{1f}{named}"),
        None if identities.is_empty() => return Ok((None, identities)),
        None => named,
    };
    if let Some(p) = app.buyers.get(&key) {
        return Ok((p.as_deref().cloned(), identities));
    }
    let generation = app.buyers.generation();
    let profile = match &req.profile_id {
        Some(id) => {
            let profile = crate::app::profiles::by_id(app, id).await?;
            same_person(app, &profile, &identities).await?;
            Some(profile)
        }
        None => crate::app::profiles::vouched(app, &identities).await?,
    };
    app.buyers.put([(key, profile.clone().map(Arc::new))], generation);
    Ok((profile, identities))
}

/// A cart naming a profile and identities too: each identity is the
/// profile's or no one's yet (the order then links it to the profile);
/// one that is another person's, or a second user id, is refused rather
/// than pricing for one person and recording the order on another.
async fn same_person(app: &App, profile: &Profile, identities: &[Identity]) -> AppResult<()> {
    for identity in identities.iter().filter(|i| !profile.identities.contains(i)) {
        let other_user = identity.kind == IdentityKind::UserId
            && profile.identities.iter().any(|held| held.kind == IdentityKind::UserId);
        let holders = app.store.profiles().find_profiles(identity).await?;
        let elsewhere = holders.iter().any(|h| h.id != profile.id && !h.unverified.contains(identity));
        if other_user || elsewhere {
            return Err(invalid(format!(
                "profile_id and {} {:?} name different people: send one of them, or the profile's own",
                identity.kind, identity.value
            )));
        }
    }
    Ok(())
}
