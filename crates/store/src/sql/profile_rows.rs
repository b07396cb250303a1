//! The processor's writes of profile rows: whole states (new profiles, and
//! those whose traits changed), counters only (traits left as read), and
//! bumps (events counted on profiles the batch never read).

use super::SqlDialect as _;
use super::process::SqlProcessTx;
use super::{backend, micros};
use crate::{Bump, ProfileState, Result, StoreError};
use sqlx::AssertSqlSafe;

/// Rows per multi-row statement (keeps parameters well under SQLite's limit).
const ROWS: usize = 400;

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Fails the batch when fewer rows were updated than asked for: only the
/// processor writes profiles, so its picture was stale.
fn all_updated(done: u64, asked: usize) -> Result<()> {
    if done == asked as u64 {
        return Ok(());
    }
    Err(StoreError::Conflict(format!("{} of {asked} profiles to update were not stored", asked as u64 - done)))
}

/// `rows` in the order of their profile ids: each statement then walks the
/// table's pages in order (ids as text sort as the ids do), and two
/// PostgreSQL workers lock shared rows in one order.
fn by_id<'a, T>(rows: &[&'a T], id: impl Fn(&T) -> beacon_core::ProfileId) -> Vec<&'a T> {
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|r| id(r));
    sorted
}

impl SqlProcessTx {
    /// Fails the batch unless every one of `states` (profiles it read as
    /// stored) is still a live profile: one erased since (and so perhaps
    /// still in a processor's cache) must not be written back.
    pub(super) async fn require_stored(&mut self, states: &[&ProfileState]) -> Result<()> {
        for part in states.chunks(ROWS) {
            let sql = format!(
                "SELECT COUNT(*) FROM profiles WHERE merged_into IS NULL AND id IN ({})",
                self.dialect.params_from(0, part.len())
            );
            let mut q = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql));
            for s in part {
                q = q.bind(s.id.to_string());
            }
            let found = q.fetch_one(&mut *self.tx).await.map_err(backend)?;
            all_updated(found as u64, part.len())?;
        }
        Ok(())
    }

    pub(super) async fn insert_states(&mut self, states: &[&ProfileState], upsert: bool) -> Result<()> {
        let states = by_id(states, |s| s.id);
        for part in states.chunks(ROWS) {
            let conflict = if upsert {
                " ON CONFLICT (id) DO UPDATE SET traits = excluded.traits, trait_times = excluded.trait_times, \
                 orders = excluded.orders, updated_at = excluded.updated_at"
            } else {
                " ON CONFLICT (id) DO NOTHING"
            };
            let sql = format!(
                "INSERT INTO profiles (id, traits, trait_times, orders, created_at, updated_at) VALUES {}{conflict}",
                self.dialect.rows(part.len(), 6)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for s in part {
                // (traits still sealed as read are written as read)
                let (traits, times) = match &s.sealed_traits {
                    Some(sealed) => (sealed.traits.clone(), sealed.times.clone()),
                    None => (
                        self.seal_traits(&serde_json::to_string(&s.traits).map_err(json_err)?)?,
                        serde_json::to_string(&s.trait_times).map_err(json_err)?,
                    ),
                };
                q = q
                    .bind(s.id.to_string())
                    .bind(traits)
                    .bind(times)
                    .bind(serde_json::to_string(&s.orders).map_err(json_err)?)
                    .bind(micros(s.first_seen))
                    .bind(micros(s.last_seen));
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        for part in states.chunks(ROWS) {
            let conflict = if upsert {
                " ON CONFLICT (id) DO UPDATE SET first_seen = excluded.first_seen, last_seen = excluded.last_seen, \
                 event_count = excluded.event_count"
            } else {
                " ON CONFLICT (id) DO NOTHING"
            };
            let sql = format!(
                "INSERT INTO profile_counters (id, first_seen, last_seen, event_count) VALUES {}{conflict}",
                self.dialect.rows(part.len(), 4)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for s in part {
                q = q.bind(s.id.to_string()).bind(micros(s.first_seen)).bind(micros(s.last_seen)).bind(s.event_count);
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }

    /// The states of stored profiles whose traits the batch left as they
    /// are: their counters and orders only (traits are sealed and
    /// serialized again otherwise, for nothing).
    pub(super) async fn update_counters(&mut self, states: &[&ProfileState]) -> Result<()> {
        let states = by_id(states, |s| s.id);
        for part in states.chunks(ROWS) {
            // (a VALUES list's columns are column1, column2, … on both backends)
            let sql = format!(
                "UPDATE profile_counters SET first_seen = v.column2, last_seen = v.column3, event_count = v.column4 \
                 FROM (VALUES {}) AS v WHERE profile_counters.id = v.column1",
                self.dialect.rows(part.len(), 4)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for s in part {
                q = q.bind(s.id.to_string()).bind(micros(s.first_seen)).bind(micros(s.last_seen)).bind(s.event_count);
            }
            let done = q.execute(&mut *self.tx).await.map_err(backend)?.rows_affected();
            all_updated(done, part.len())?;
        }
        // (orders change on few of them, but which is not known here)
        for part in states.chunks(ROWS) {
            let sql = format!(
                "UPDATE profiles SET orders = v.column2, updated_at = v.column3 FROM (VALUES {}) AS v \
                 WHERE profiles.id = v.column1 AND profiles.orders <> v.column2",
                self.dialect.rows(part.len(), 3)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for s in part {
                q = q
                    .bind(s.id.to_string())
                    .bind(serde_json::to_string(&s.orders).map_err(json_err)?)
                    .bind(micros(s.last_seen));
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }

    /// Adds each bump's events to its profile's count and widens its first
    /// and last sighting (the profile must be stored and live: a merged one
    /// has no counters).
    pub(super) async fn bump_counters(&mut self, bumps: &[Bump]) -> Result<()> {
        let bumps: Vec<&Bump> = bumps.iter().collect();
        for part in by_id(&bumps, |b| b.id).chunks(ROWS) {
            let d = self.dialect;
            let sql = format!(
                "UPDATE profile_counters SET event_count = event_count + v.column2, first_seen = {}, last_seen = {} \
                 FROM (VALUES {}) AS v WHERE profile_counters.id = v.column1",
                d.least("profile_counters.first_seen", "v.column3"),
                d.greatest("profile_counters.last_seen", "v.column4"),
                d.rows(part.len(), 4)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for b in part {
                q = q.bind(b.id.to_string()).bind(b.events).bind(micros(b.first_seen)).bind(micros(b.last_seen));
            }
            let done = q.execute(&mut *self.tx).await.map_err(backend)?.rows_affected();
            all_updated(done, part.len())?;
        }
        Ok(())
    }
}
