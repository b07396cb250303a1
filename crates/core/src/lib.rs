//! Beacon's domain core: identifiers, identities and their normalisation,
//! Segment message validation, identity-resolution rules, profile trait
//! merging, exact money and the one catalogue of error codes.
//!
//! Pure: no I/O, no clock, no randomness. Callers pass the time and any
//! generated ids in. Every other crate depends on this one; it depends on none
//! of them.

pub mod access;
pub mod catalog;
pub mod commerce;
pub mod error;
pub mod extract;
pub mod identity;
pub mod ids;
pub mod mask;
pub mod message;
pub mod money;
pub mod pii_keys;
pub mod profile;
pub mod resolve;
pub mod seeded;
pub mod trust;
pub mod zone;

pub use error::{Error, ErrorCode};
pub use identity::{Identity, IdentityKind, NormalizeOptions};
pub use ids::ProfileId;
pub use money::{Currency, Money};
