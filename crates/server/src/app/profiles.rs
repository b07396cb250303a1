//! Finding a profile: by id (a merged-away id finds its survivor) or by any
//! identity it holds. Every caller — the profiles API, carts, coupons,
//! points, workers — resolves through here.

use super::{App, AppResult};
use beacon_core::{Error, ErrorCode, Identity, IdentityKind, ProfileId};
use beacon_store::Profile;

/// How a caller names a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileRef {
    /// A profile id; one merged into another stands for the survivor.
    Id(ProfileId),
    /// An identity the profile holds (the first holder if several share it).
    Identity(Identity),
}

/// A profile id from text (`invalid_parameter` if it is none).
pub fn parse_id(s: &str) -> Result<ProfileId, Error> {
    s.parse().map_err(|_| Error::new(ErrorCode::InvalidParameter, format!("{s:?} is not a profile id")))
}

impl ProfileRef {
    /// A profile id given as text.
    pub fn id(s: &str) -> Result<ProfileRef, Error> {
        parse_id(s).map(ProfileRef::Id)
    }
}

/// The profile `r` names, if any.
pub async fn find(app: &App, r: &ProfileRef) -> AppResult<Option<Profile>> {
    Ok(match r {
        ProfileRef::Id(id) => app.store.profiles().get_profile(*id).await?,
        ProfileRef::Identity(identity) => app.store.profiles().find_profiles(identity).await?.into_iter().next(),
    })
}

/// The profile `r` names; `not_found` if there is none.
pub async fn resolve(app: &App, r: &ProfileRef) -> AppResult<Profile> {
    find(app, r).await?.ok_or_else(|| Error::new(ErrorCode::NotFound, "no such profile"))
}

/// The profile with id `s` (text from a caller), resolved through merges.
pub async fn by_id(app: &App, s: &str) -> AppResult<Profile> {
    resolve(app, &ProfileRef::id(s)?).await
}

/// The identities a caller names a shopper by (user id, anonymous id,
/// email, phone: each if given), normalised as ingest normalises them.
pub fn named_identities(
    app: &App,
    user_id: Option<&str>,
    anonymous_id: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Vec<Identity>, Error> {
    let opts = &app.rules.identity.normalize;
    let named = [
        (IdentityKind::UserId, user_id),
        (IdentityKind::AnonymousId, anonymous_id),
        (IdentityKind::Email, email),
        (IdentityKind::Phone, phone),
    ];
    named.into_iter().filter_map(|(kind, v)| v.map(|v| Identity::parse(kind, v, opts))).collect()
}

/// The profile a checkout's buyer is, for what only a known customer may
/// use (wallet coupons, points, member prices, tier): the first holder of
/// one of `identities` that is a user id a server vouched for. An anonymous
/// id, or an email or phone alone, names nobody here ([`beacon_core::trust`]).
pub async fn vouched(app: &App, identities: &[Identity]) -> AppResult<Option<Profile>> {
    for identity in identities.iter().filter(|i| i.kind == IdentityKind::UserId) {
        let holders = app.store.profiles().find_profiles(identity).await?;
        if let Some(p) = holders.into_iter().find(|p| !p.unverified.contains(identity)) {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// The first profile holding any of `identities`, in their order.
pub async fn by_identities(app: &App, identities: &[Identity]) -> AppResult<Option<Profile>> {
    for identity in identities {
        if let Some(p) = find(app, &ProfileRef::Identity(identity.clone())).await? {
            return Ok(Some(p));
        }
    }
    Ok(None)
}
