//! Which source a log record came from, as far as trust goes
//! ([`beacon_core::trust`]): the server's own records (orders, imports:
//! `api:…`) and server write keys are servers; client write keys, and a
//! key the store no longer knows, are clients. An order the shop recorded
//! for no user of its own (a guest's: an anonymous id, and the email or
//! phone typed at checkout) vouches for nothing, so it counts as a client's.

use beacon_core::IdentityKind;
use beacon_core::extract::Extracted;
use beacon_core::trust::Source;
use beacon_store::{KeyKind, Store, StoreError};
use foldhash::HashMap;

/// The source ids of the server's own records (`app::records`, imports).
const SERVER_PREFIX: &str = "api:";

/// The trust of a record from `source_id` (of trust `source`) saying `found`.
pub fn of_record(source: Source, source_id: &str, found: &Extracted) -> Source {
    let guest = !found.identities.iter().any(|i| i.kind == IdentityKind::UserId);
    if source_id == crate::app::records::ORDERS_SOURCE && guest { Source::Client } else { source }
}

#[derive(Default)]
pub struct Sources {
    known: HashMap<String, Source>,
}

impl Sources {
    /// The sources of `ids`, reading the keys once if one is new.
    pub async fn of<'a>(
        &mut self,
        store: &dyn Store,
        ids: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<Vec<Source>, StoreError> {
        let new = |known: &HashMap<String, Source>, id: &str| !id.starts_with(SERVER_PREFIX) && !known.contains_key(id);
        if ids.clone().any(|id| new(&self.known, id)) {
            for key in store.keys().list_keys().await? {
                if let KeyKind::Write(source) = key.kind {
                    self.known.insert(key.id, source);
                }
            }
            // (an id no key has: a client, and not looked up again)
            for id in ids.clone().filter(|id| !id.starts_with(SERVER_PREFIX)) {
                self.known.entry(id.to_string()).or_insert(Source::Client);
            }
        }
        Ok(ids
            .map(|id| match id.starts_with(SERVER_PREFIX) {
                true => Source::Server,
                false => self.known.get(id).copied().unwrap_or(Source::Client),
            })
            .collect())
    }
}
