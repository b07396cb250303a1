//! Who was active, per day: visitors (profiles with a page view, screen
//! view or action) and buyers (profiles with an order that was not
//! cancelled), for the dashboard's conversion rate.

/// Days at midnight of the caller's offset; days without anyone are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// (day, visitors, buyers).
    pub days: Vec<(chrono::NaiveDate, i64, i64)>,
    /// Distinct over the whole range (a visitor of two days counts once).
    pub visitors: i64,
    pub buyers: i64,
}
