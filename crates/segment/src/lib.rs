//! The segment language: who a campaign is for, as one condition tree
//! ([`Condition`]) with two forms that say the same thing — JSON (what the
//! API stores) and a readable text form (what people write):
//!
//! ```text
//! performed "Product Viewed" >= 3 within 30d where category = "鞋"
//!   and not performed "Order Completed" within 30d
//! ```
//!
//! [`parse`] reads the text form (errors give the position and what was
//! expected), [`Condition`]'s `Display` writes it, and reading what was
//! written gives the same tree ([`Condition::normalized`]: groups of one
//! are their condition, nested groups of a kind are one). [`eval`] decides
//! a profile's membership from its traits and events at a time.
//!
//! [`batch`] decides a tree for every profile at once from what a store
//! selects for each leaf; [`properties`] is what a store keeps of an event
//! for filters.
//!
//! Pure: no I/O.

mod ast;
pub mod batch;
pub mod columns;
mod conditions;
mod decimal;
pub mod depends;
pub mod eval;
mod explain;
pub mod keep;
mod lex;
mod orders;
pub mod properties;
pub mod random;
mod text;
mod validate;
mod wallet;
mod write;

pub use ast::{
    Bought, Cmp, Condition, Count, EventTime, Item, Measure, Op, OrderFigure, Performed, PropertyFilter,
    TraitCondition, Unit, Wallet, Window,
};
pub use eval::{EventFact, Facts, LineFact, OrderFact, bucket, matches};
pub use explain::{Explained, explain};
pub use text::{ParseError, parse};
pub use validate::{Invalid, MAX_CONDITIONS};
pub use wallet::{CouponFact, PointsLot, points_available};
