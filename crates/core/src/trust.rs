//! Who may claim an identity: the trust model over [`crate::resolve`].
//!
//! A message comes from a **client** source (a browser, an app, a
//! mini-program: its write key is public, so anything it says may be
//! spoofed) or a **server** source (the shop's back end, an order or a
//! checkout recorded through the admin API). Every identity link remembers
//! whether a server vouched for it (`verified`).
//!
//! The rules (also in docs/SECURITY.md):
//! 1. A client message never attaches a device or anonymous id (an
//!    *anchor*) to a profile holding a verified link, and never merges such
//!    a profile: a verified profile takes part only when the message names
//!    anchors and they are all on it already (the shopper's own device),
//!    and then the message lands there and merges nothing. Otherwise the
//!    message stays on the unverified profiles it reaches (or a new one),
//!    and its claims (user id, email, phone, openid…) are linked there,
//!    unverified.
//! 2. A server message does not reach a profile through a claim that
//!    profile only holds unverified (anybody could have claimed it); it
//!    reaches it through its anchors, or through links a server vouched
//!    for. So an unverified claim is confirmed only by a server message that
//!    names the device too (a login), and then the profiles merge.
//! 3. Links a server message makes are verified, and so become the links it
//!    repeats.

use crate::identity::{Identity, IdentityKind};
use crate::resolve::{Candidate, Plan, Target};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a message came from, as far as trust goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A browser, app or mini-program: public, spoofable.
    #[default]
    Client,
    /// The shop's back end: secret.
    Server,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Client => "client",
            Source::Server => "server",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "client" => Some(Source::Client),
            "server" => Some(Source::Server),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Traits only a server may set: what prices read (member tier, tags).
/// A client's message that sets them sets its other traits only.
pub const SERVER_TRAITS: &[&str] = &["tier", "tags"];

/// The traits a message from `source` may set.
pub fn settable(
    source: Source,
    traits: &serde_json::Map<String, serde_json::Value>,
) -> std::borrow::Cow<'_, serde_json::Map<String, serde_json::Value>> {
    if source == Source::Client && SERVER_TRAITS.iter().any(|k| traits.contains_key(*k)) {
        let kept = traits.iter().filter(|(k, _)| !SERVER_TRAITS.contains(&k.as_str()));
        std::borrow::Cow::Owned(kept.map(|(k, v)| (k.clone(), v.clone())).collect())
    } else {
        std::borrow::Cow::Borrowed(traits)
    }
}

/// A device or anonymous id: names a device, not a person.
pub fn is_anchor(kind: &IdentityKind) -> bool {
    matches!(kind, IdentityKind::AnonymousId | IdentityKind::DeviceId)
}

/// The candidates a message from `source` carrying `identities` may use.
/// A client message that may land on a verified profile is given only the
/// verified ones it may use (it merges nothing into them: see [`restrict`]).
pub fn admit(source: Source, identities: &[Identity], candidates: Vec<Candidate>) -> Vec<Candidate> {
    match source {
        Source::Server => candidates
            .into_iter()
            .filter(|c| {
                c.aliased
                    || identities
                        .iter()
                        .any(|i| c.identities.contains(i) && (is_anchor(&i.kind) || !c.unverified.contains(i)))
            })
            .collect(),
        Source::Client => {
            // the message's device is the profile's own: named, and on it
            let owns = |c: &Candidate| {
                let mut anchors = identities.iter().filter(|i| is_anchor(&i.kind)).peekable();
                anchors.peek().is_some() && anchors.all(|i| c.identities.contains(i))
            };
            let (verified, unverified): (Vec<Candidate>, Vec<Candidate>) =
                candidates.into_iter().filter(|c| !c.verified || owns(c)).partition(|c| c.verified);
            if verified.is_empty() { unverified } else { verified }
        }
    }
}

/// What a client message may do of `plan`, made over [`admit`]ted
/// candidates: nothing is merged into a verified profile, and no verified
/// profile is merged.
pub fn restrict(source: Source, mut plan: Plan, admitted: &[Candidate]) -> Plan {
    if source == Source::Server {
        return plan;
    }
    let verified = |id| admitted.iter().any(|c| c.id == id && c.verified);
    match plan.target {
        Target::Existing(t) if verified(t) => plan.merges.clear(),
        _ => plan.merges.retain(|(from, _)| !verified(*from)),
    }
    plan
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
