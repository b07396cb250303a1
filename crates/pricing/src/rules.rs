//! Who and when a promotion is for: eligibility (member tiers, customer
//! tags, new customers) and recurring weekly windows in the shop's offset
//! from UTC (限时折扣).

use crate::spec::invalid;
use beacon_core::Error;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Who may have a promotion: any of `tiers`, any of `tags`, and (if set)
/// only customers with no earlier order. Empty lists do not restrict.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    #[serde(default)]
    pub tiers: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub new_customers_only: bool,
}

impl Eligibility {
    pub fn admits(&self, c: &crate::cart::Customer) -> bool {
        (self.tiers.is_empty() || c.tier.as_ref().is_some_and(|t| self.tiers.contains(t)))
            && (self.tags.is_empty() || c.tags.iter().any(|t| self.tags.contains(t)))
            && (!self.new_customers_only || c.orders == 0)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// The shop's offset from UTC, e.g. `+08:00`.
    pub utc_offset: String,
    pub windows: Vec<WindowSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// `mon` … `sun`; none: every day.
    #[serde(default)]
    pub days: Vec<String>,
    /// `HH:MM`, from (included) to (excluded, `24:00` for midnight).
    pub from: String,
    pub to: String,
}

/// Recurring windows, in minutes of a local week.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub utc_offset_seconds: i32,
    /// (weekday bits, Monday = 1; from minute; to minute).
    pub windows: Vec<(u8, u16, u16)>,
}

impl Schedule {
    /// Whether `now` falls in one of the windows.
    pub fn open_at(&self, now: DateTime<Utc>) -> bool {
        use chrono::{Datelike, Timelike};
        let local = now + chrono::Duration::seconds(i64::from(self.utc_offset_seconds));
        let day = 1u8 << local.weekday().num_days_from_monday();
        let minute = (local.hour() * 60 + local.minute()) as u16;
        self.windows.iter().any(|(days, from, to)| days & day != 0 && *from <= minute && minute < *to)
    }
}

pub(crate) fn schedule(id: &str, s: &ScheduleSpec) -> Result<Schedule, Error> {
    let offset = beacon_core::zone::parse_utc_offset(&s.utc_offset)
        .ok_or_else(|| invalid(id, format!("schedule.utc_offset {:?} must be like +08:00", s.utc_offset)))?;
    if s.windows.is_empty() {
        return Err(invalid(id, "schedule.windows needs at least one window"));
    }
    let minute = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
    };
    let mut windows = Vec::with_capacity(s.windows.len());
    for (i, w) in s.windows.iter().enumerate() {
        const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let mut mask = 0u8;
        for d in &w.days {
            let n = DAYS
                .iter()
                .position(|x| x.eq_ignore_ascii_case(d.trim()))
                .ok_or_else(|| invalid(id, format!("schedule.windows[{i}].days: {d:?} is not mon … sun")))?;
            mask |= 1 << n;
        }
        if w.days.is_empty() {
            mask = 0x7f;
        }
        let bad = || invalid(id, format!("schedule.windows[{i}]: from and to must be HH:MM with from before to"));
        let (from, to) = (minute(&w.from).ok_or_else(bad)?, minute(&w.to).ok_or_else(bad)?);
        if from >= to {
            return Err(bad());
        }
        windows.push((mask, from, to));
    }
    Ok(Schedule { utc_offset_seconds: offset, windows })
}
