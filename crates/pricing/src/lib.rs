//! Beacon's promotions engine (pure): `(cart, promotions, now)` → the priced
//! cart and its explanation. No I/O, no clock, no randomness: the same inputs give the
//! same answer, so every price can be explained and replayed. Committing an
//! order (redemptions, budgets, stock, points) is the store's transaction
//! around it.
//!
//! - [`spec`]: the promotion JSON, validated into [`spec::Promotion`].
//! - [`cart`]: what is priced.
//! - [`engine::price`]: the order of application and the search for the
//!   combination that is best for the shopper.
//! - [`explain`]: what the answer says.

pub mod cart;
pub mod codes;
pub mod engine;
mod eval;
pub mod explain;
mod fasthash;
pub mod groupbuy;
pub mod index;
pub mod lifecycle;
pub mod limits;
mod lines;
pub mod loyalty;
pub mod points;
mod reward;
mod rules;
mod score;
mod search;
pub mod spec;

pub use cart::{Cart, Line};
pub use codes::Grant;
pub use engine::{price, price_bounded, price_with};
pub use explain::{Priced, Reason};
pub use index::Snapshot;
pub use limits::{Subject, Take, Usage};
pub use spec::{Promotion, Spec};
