//! One batch, in two halves: **decide** (read the log from where the last
//! batch ended, read what it needs from the store in bulk, decide each event
//! in memory) and **write** (one transaction: check the offset, claim the
//! dedupe keys, write the changes and the new offset). The halves are apart
//! so the processor can decide the next batch while this one is written
//! (see [`super::run`]); the write half checks that what the decide half
//! assumed still holds, and fails with a conflict otherwise, so a batch is
//! never written on stale reads.

use super::cache::{Cache, InFlight};
use super::source::Source;
use super::working::{self, Known};
use super::{Rules, commerce_of, follow, orders};
use beacon_core::commerce;
use beacon_core::extract::read_message;
use beacon_core::message::MessageKind;
use beacon_core::{Identity, ProfileId};
use beacon_store::{BatchChanges, DedupeKey, ProcessRead, ProcessTx, Store, StoreError};
use std::collections::HashSet;

/// A batch decided and not written yet.
pub struct Decided {
    /// The offset it was read from, and its last record's.
    pub from: i64,
    pub last: i64,
    /// Log records consumed.
    pub records: usize,
    /// The bus chunks they came in, kept in the store's log with the batch.
    archive: Vec<(i64, usize, Vec<u8>)>,
    /// The batch is as large as allowed (the processor is behind).
    pub full: bool,
    /// Every event's dedupe key (of its source and messageId), claimed when written.
    keys: Vec<DedupeKey>,
    /// The keys the decision took as processed before.
    stored: HashSet<DedupeKey>,
    changes: BatchChanges,
    /// What the batch leaves known exactly (none after a merge).
    known: Option<Known>,
    /// The saved segments as the batch was decided, and when.
    segments: std::sync::Arc<super::segments::SegmentIndex>,
    now: chrono::DateTime<chrono::Utc>,
    /// Told of the batch once it is committed.
    held: Option<std::sync::Arc<crate::app::held::HeldEvents>>,
    duplicates: u64,
    repeated: u64,
}

impl Decided {
    /// Whether the next batch may be decided before this one is written:
    /// not after merges, which re-point rows the cache cannot follow.
    pub fn overlappable(&self) -> bool {
        self.known.is_some()
    }

    /// Hands the cache what the next decision may take from this batch
    /// before it is written (what it knows exactly moves to the cache).
    pub fn hand_over(&mut self, cache: &mut Cache) {
        let in_flight = InFlight {
            keys: self.keys.iter().copied().collect(),
            bumped: self.changes.bumps.iter().map(|b| b.id).collect(),
            orders: self.changes.orders.iter().map(|o| (o.order_id.clone(), o.clone())).collect(),
        };
        cache.decided(self.last, self.known.take(), Some(in_flight));
    }

    /// Hands the cache what this batch, now written, knows exactly.
    pub fn written(mut self, cache: &mut Cache) {
        cache.decided(self.last, self.known.take(), None);
    }
}

/// What an event is called and what of it is kept beside it: its name,
/// the product it is about, the properties segments filter on.
#[derive(Debug, Clone, Default)]
pub struct Label {
    pub name: Option<String>,
    pub product: Option<String>,
    pub props: Option<String>,
}

/// What a batch reads from, and how: its source, and where its source is
/// shared with other processors (bus partitions), the transaction it will
/// be written in, whose locks guard its reads.
pub struct Input<'a> {
    pub source: &'a Source,
    pub guard: Option<&'a mut (dyn ProcessTx + 'static)>,
}

/// Lock classes, taken in this order: the batch's identities and order ids,
/// then the profiles holding them.
const LOCK_KEYS: i32 = 7_259_101;
const LOCK_PROFILES: i32 = 7_259_102;
/// Locks per class: a name's lock is a hash of it into this many, so a
/// batch of thousands takes at most this many (PostgreSQL's lock table is
/// shared and small); names sharing a lock only wait for each other.
const LOCK_BUCKETS: u64 = 128;

fn bucket(name: &impl std::hash::Hash) -> i32 {
    use std::hash::BuildHasher as _;
    // fixed seeds: every process must map a name to the same lock
    (foldhash::quality::FixedState::with_seed(0x5eed).hash_one(name) % LOCK_BUCKETS) as i32
}

/// Takes, in `tx`, the locks a batch of another partition takes for these
/// identities and profiles (in the same order), so what they hold stays as
/// read until `tx` ends (an erasure).
pub async fn lock_as_a_batch(
    tx: &mut dyn ProcessTx,
    identities: &[Identity],
    profiles: &[ProfileId],
) -> Result<(), StoreError> {
    tx.lock(LOCK_KEYS, &identities.iter().map(bucket).collect::<Vec<_>>()).await?;
    tx.lock(LOCK_PROFILES, &profiles.iter().map(bucket).collect::<Vec<_>>()).await
}

/// Decides the batch after the cache's expected offset (the store's, when
/// the cache has none); `None` when the log has nothing after it.
pub async fn decide(
    store: &dyn Store,
    reader: &mut dyn ProcessRead,
    input: Input<'_>,
    rules: &Rules,
    batch: u32,
    cache: &mut Cache,
) -> Result<Option<Decided>, StoreError> {
    let Input { source, mut guard } = input;
    let mut phases = super::timing::Phases::start("decide");
    let guarded = guard.is_some();
    let from = match cache.expected_offset() {
        Some(from) => from,
        None => {
            let from = reader.offset(&source.name()).await?;
            cache.check(from);
            from
        }
    };
    let read = source.read(store, from, batch).await?;
    let records = read.records;
    let Some(last) = records.last().map(|r| r.seq) else { return Ok(None) };
    // after the records are read: a program changed before they were appended is seen
    let follows = cache.follows.get(store, rules.currency).await?;
    let segments = super::segments::SegmentIndex::current(store, cache.segments.take()).await?;
    cache.segments = Some(segments.clone());
    let now = rules.clock.now();
    phases.mark("read log");

    // 1. read what the batch says, and what it needs from the store, in bulk
    let mut parsed = Vec::with_capacity(records.len());
    for rec in &records {
        match read_message(rec.record.kind, &rec.record.payload, &rules.identity) {
            Ok(m) => {
                let deal = commerce_of(rec, m.name.as_deref(), m.properties, rules.currency);
                let (product, props) = match (rec.record.kind, m.name.as_deref(), m.properties) {
                    (MessageKind::Track, Some(event), Some(properties)) => {
                        (commerce::product_in(event, properties), beacon_segment::properties::kept(properties.get()))
                    }
                    _ => (None, None),
                };
                parsed.push((rec, m.found, Label { name: m.name, product, props }, deal));
            }
            // validated at ingest, so only a corrupt log gets here: skip, don't stall
            Err(e) => tracing::error!(seq = rec.seq, "unreadable log record skipped: {e}"),
        }
    }
    let keys: Vec<DedupeKey> =
        parsed.iter().map(|(r, ..)| store.dedupe_key(&r.record.source_id, &r.record.message_id)).collect();
    let sources = cache.sources.of(store, parsed.iter().map(|(r, ..)| r.record.source_id.as_str())).await?;
    let sources: Vec<_> = parsed
        .iter()
        .zip(sources)
        .map(|((r, found, ..), source)| super::trust::of_record(source, &r.record.source_id, found))
        .collect();
    phases.mark("parse");
    let mut stored = reader.seen(&keys).await?;
    if let Some(flight) = cache.in_flight() {
        stored.extend(keys.iter().filter(|k| flight.keys.contains(*k)));
    }
    let mut order_ids: Vec<String> =
        parsed.iter().filter_map(|(.., d)| d.as_ref().and_then(orders::order_id)).map(str::to_string).collect();
    order_ids.sort();
    order_ids.dedup();
    let mut lookups: Vec<Identity> = parsed.iter().flat_map(|(_, f, ..)| working::lookup_keys(f)).collect();
    lookups.sort();
    lookups.dedup();
    if let Some(tx) = guard.as_deref_mut() {
        // before anything they name is read: another partition's batch that
        // shares an identity or an order waits for this one, or this one for it
        let keys: Vec<i32> = lookups.iter().map(bucket).chain(order_ids.iter().map(bucket)).collect();
        tx.lock(LOCK_KEYS, &keys).await?;
    }
    phases.mark("seen");
    let mut book = orders::Orders::default();
    let in_flight = cache.in_flight().map(|f| &f.orders);
    let (flying, to_read): (Vec<String>, Vec<String>) =
        order_ids.into_iter().partition(|id| in_flight.is_some_and(|o| o.contains_key(id)));
    book.hold(flying.iter().filter_map(|id| in_flight.and_then(|o| o.get(id)).cloned()).collect());
    book.hold(reader.orders(&to_read).await?);
    let (known, unknown): (Vec<Identity>, Vec<Identity>) =
        lookups.iter().cloned().partition(|i| cache.holders(i).is_some());
    phases.mark("orders");
    // who holds each identity the batch names, as stored
    let mut held: foldhash::HashMap<Identity, Vec<ProfileId>> = Default::default();
    for (identity, p) in reader.holders(&unknown).await? {
        held.entry(identity).or_default().push(p);
    }
    for identity in known {
        let ps = cache.holders(&identity).cloned().unwrap_or_default();
        held.insert(identity, ps);
    }
    let mut holders: Vec<ProfileId> = held.values().flatten().copied().chain(book.buyers()).collect();
    holders.sort();
    holders.dedup();
    if let Some(tx) = guard {
        let keys: Vec<i32> = holders.iter().map(bucket).collect();
        tx.lock(LOCK_PROFILES, &keys).await?;
    }
    // events that only count on one stored profile, and profiles only
    // such events name, which the batch need not read
    // (a server's event may vouch for links: it is always resolved)
    let settled: Vec<Option<ProfileId>> = parsed
        .iter()
        .zip(&sources)
        .map(|((_, found, .., deal), source)| {
            super::settled::settled_on(found, deal.is_none() && *source == beacon_core::trust::Source::Client, &held)
        })
        .collect();
    let mut must_read: HashSet<ProfileId> = book.buyers().collect();
    for ((_, found, ..), one) in parsed.iter().zip(&settled) {
        if one.is_none() {
            must_read.extend(working::lookup_keys(found).iter().filter_map(|i| held.get(i)).flatten());
        }
    }
    let unread: HashSet<ProfileId> =
        holders.iter().filter(|p| !must_read.contains(*p) && cache.profile(p).is_none()).copied().collect();
    let (cached, missing): (Vec<ProfileId>, Vec<ProfileId>) =
        holders.iter().filter(|p| !unread.contains(*p)).partition(|p| cache.profile(p).is_some());
    if let Some(flight) = cache.in_flight()
        && missing.iter().any(|p| flight.bumped.contains(p))
    {
        // its stored counters may or may not show the batch being written yet
        return Err(StoreError::Conflict("a profile counted unread by the batch being written is read".into()));
    }
    phases.mark("holders");
    let mut work = working::Working::default();
    let mut named: foldhash::HashMap<ProfileId, Vec<Identity>> = Default::default();
    for (identity, ps) in &held {
        for p in ps.iter().filter(|p| unread.contains(*p)) {
            named.entry(*p).or_default().push(identity.clone());
        }
    }
    for (p, identities) in named {
        work.hold_unread(p, identities);
    }
    let loaded = reader.load(&missing).await?;
    if guarded && loaded.len() != missing.len() {
        // a profile read above was merged away by another partition's batch
        // before this one held its lock: its identities and orders moved
        return Err(StoreError::Conflict("a profile of the batch was merged while it locked them".into()));
    }
    for (state, identities) in loaded {
        work.hold(state, identities);
    }
    for (state, identities) in cached.iter().filter_map(|p| cache.profile(p)) {
        work.hold(state.clone(), identities.clone());
    }

    phases.mark("load");

    // 2. decide each event in log order, in memory
    let mut seen: foldhash::HashSet<DedupeKey> = stored.iter().copied().collect();
    let open = |s: &mut beacon_store::ProfileState| store.open_traits(s);
    let mut duplicates = 0u64;
    let mut outbox = Vec::new();
    for ((((rec, found, label, deal), key), one), source) in parsed.into_iter().zip(&keys).zip(settled).zip(sources) {
        if !seen.insert(*key) {
            duplicates += 1;
            continue;
        }
        let followed = follows.cares(label.name.as_deref(), deal.is_some()).then(|| label.name.clone());
        let sender = match one.filter(|p| work.unread(p)) {
            Some(p) => {
                work.count(rec, label, p);
                Some(p)
            }
            None => work.apply(rec, &found, source, label, &rules.identity, &open),
        };
        if let (Some(sender), Some(name)) = (sender, followed) {
            follows.event(rec, name.as_deref(), deal.as_ref(), sender, now, &mut outbox);
        }
        if let (Some(sender), Some(deal)) = (sender, deal) {
            book.apply(&mut work, sender, rec, deal);
        }
    }

    if let Some(e) = work.failure() {
        return Err(e);
    }
    phases.mark("resolve");
    // 3. what the write half will write, with the new offset
    let repeated = book.repeated;
    let mut order_changes = BatchChanges::default();
    book.finish(&work, &mut order_changes);
    let (mut changes, known_now) = work.finish(&lookups);
    changes.orders = order_changes.orders;
    changes.after_sales = order_changes.after_sales;
    changes.reviews = order_changes.reviews;
    follow::Follows::after_sales(&changes.after_sales, now, &mut outbox);
    changes.outbox = outbox;
    let known = changes.merges.is_empty().then_some(known_now);
    phases.mark("finish");
    super::timing::record(phases, records.len());
    Ok(Some(Decided {
        from,
        last,
        records: records.len(),
        archive: read.archive,
        full: records.len() >= batch as usize,
        keys,
        stored,
        changes,
        known,
        duplicates,
        repeated,
        segments,
        now,
        held: rules.held.clone(),
    }))
}

/// Writes a decided batch in `tx`, whose offset must still be the one the
/// batch was read from, and whose dedupe claims must find what the decision
/// took as processed (a conflict otherwise: another node or a failed write
/// came between, and the batch is decided again).
pub async fn write(mut tx: Box<dyn ProcessTx>, d: &Decided) -> Result<(), StoreError> {
    let mut phases = super::timing::Phases::start("write");
    let offset = tx.offset().await?;
    if offset != d.from {
        return Err(StoreError::Conflict(format!("the offset moved from {} to {offset}", d.from)));
    }
    let already = tx.claim(&d.keys).await?;
    if already != d.stored {
        return Err(StoreError::Conflict("events were processed since the batch was read".into()));
    }
    phases.mark("claim");
    tx.apply(&d.changes).await?;
    phases.mark("apply");
    super::segments::stage(tx.as_mut(), &d.changes, &d.segments, d.now, &d.last.to_string()).await?;
    phases.mark("segments");
    tx.archive(&d.archive).await?;
    tx.set_offset(d.last).await?;
    tx.commit().await?;
    if let Some(held) = &d.held {
        held.committed(d.last, &d.changes);
    }
    phases.mark("commit");
    super::timing::record(phases, d.records);
    metrics::counter!("beacon_duplicate_events_total").increment(d.duplicates);
    metrics::counter!("beacon_repeated_orders_total").increment(d.repeated);
    metrics::counter!("beacon_processed_events_total").increment(d.records as u64);
    Ok(())
}
