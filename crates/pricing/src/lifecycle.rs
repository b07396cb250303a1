//! A promotion's lifecycle: draft → scheduled → active → paused → ended.
//!
//! `scheduled` is an approved promotion waiting for its `starts_at`; the
//! engine prices it like an active one from then on (before, it is
//! `not_started`). `ended` is final.

use crate::spec::Status;
use beacon_core::{Error, ErrorCode};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Activate,
    Pause,
    Resume,
    End,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "activate" => Action::Activate,
            "pause" => Action::Pause,
            "resume" => Action::Resume,
            "end" => Action::End,
            _ => return None,
        })
    }
}

/// The status after `action`, or a `conflict` error saying why not.
pub fn transition(
    from: Status,
    action: Action,
    starts_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Status, Error> {
    let running = if starts_at.is_some_and(|s| s > now) { Status::Scheduled } else { Status::Active };
    let refuse = |why: &str| Err(Error::new(ErrorCode::Conflict, why.to_string()));
    match (action, from) {
        (Action::Activate, Status::Draft) => Ok(running),
        (Action::Activate, Status::Paused) => refuse("a paused promotion is resumed, not activated"),
        (Action::Activate, Status::Active | Status::Scheduled) => refuse("the promotion is already activated"),
        (Action::Pause, Status::Active | Status::Scheduled) => Ok(Status::Paused),
        (Action::Pause, _) => refuse("only an active or scheduled promotion can be paused"),
        (Action::Resume, Status::Paused) => Ok(running),
        (Action::Resume, _) => refuse("only a paused promotion can be resumed"),
        (Action::End, Status::Ended) => refuse("the promotion has ended already"),
        (Action::End, _) => Ok(Status::Ended),
        (_, Status::Ended) => refuse("an ended promotion cannot change; copy it into a new one"),
    }
}

/// What a stored status means at `now`: a scheduled promotion past its
/// start is active, a running one past its end has ended.
pub fn effective(
    status: Status,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Status {
    match status {
        Status::Active | Status::Scheduled if ends_at.is_some_and(|e| now >= e) => Status::Ended,
        Status::Scheduled if starts_at.is_none_or(|s| now >= s) => Status::Active,
        other => other,
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Draft, Status::Scheduled, Status::Active, Status::Paused, Status::Ended]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_transition() {
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap_or_default();
        let later = Some(now + chrono::Duration::days(10));
        let all = [Status::Draft, Status::Scheduled, Status::Active, Status::Paused, Status::Ended];
        let actions = [Action::Activate, Action::Pause, Action::Resume, Action::End];
        let mut table = Vec::new();
        for from in all {
            for a in actions {
                table.push((from, a, transition(from, a, None, now).ok(), transition(from, a, later, now).ok()));
            }
        }
        use Status::*;
        let expect = |from, a| match (from, a) {
            (Draft, Action::Activate) | (Paused, Action::Resume) => (Some(Active), Some(Scheduled)),
            (Scheduled | Active, Action::Pause) => (Some(Paused), Some(Paused)),
            (Draft | Scheduled | Active | Paused, Action::End) => (Some(Ended), Some(Ended)),
            _ => (None, None),
        };
        for (from, a, now_start, later_start) in table {
            assert_eq!((now_start, later_start), expect(from, a), "{from:?} {a:?}");
        }
        assert_eq!(effective(Scheduled, later, None, now), Scheduled);
        assert_eq!(effective(Scheduled, Some(now), None, now), Active);
        assert_eq!(effective(Active, None, Some(now), now), Ended);
        assert_eq!(effective(Paused, None, Some(now), now), Paused);
        assert!(all.iter().all(|s| Status::parse(s.as_str()) == Some(*s)));
    }
}
