//! Profile intelligence, pure: figures a store hands over, computed here
//! without I/O, a clock or randomness the caller does not seed.
//!
//! - [`rfm`]: recency, frequency and monetary value as of a day, quintile
//!   scores 1–5 with ties sharing a score, and eight named value groups.

pub mod clusters;
pub mod kmeans;
pub mod lifecycle;
pub mod rfm;
pub mod tags;
