//! The batch's fast path: an event whose profile is already settled needs
//! no resolution.

use beacon_core::extract::Extracted;
use beacon_core::{Identity, ProfileId};
use foldhash::HashMap;

/// The one stored profile an event lands on with nothing to decide and
/// nothing to change but its counters: it names identities (no alias), all
/// held by that profile alone (`held`: who holds each, as stored), and sets
/// no trait (`counts_only`: nor is it an order). Resolution would answer
/// that profile, merge nothing and link nothing, whatever else it holds.
pub fn settled_on(found: &Extracted, counts_only: bool, held: &HashMap<Identity, Vec<ProfileId>>) -> Option<ProfileId> {
    if !counts_only || found.previous_id.is_some() || !found.traits.is_empty() || !found.consents.is_empty() {
        return None;
    }
    let mut one = None;
    for identity in &found.identities {
        match held.get(identity).map(Vec::as_slice) {
            Some([p]) if one.is_none_or(|o| o == *p) => one = Some(*p),
            _ => return None,
        }
    }
    one
}
