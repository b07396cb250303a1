//! Group-buy (拼团): every transition of a team, and the group price only
//! for its members' orders.

mod common;

use beacon_core::Currency;
use beacon_pricing::groupbuy::{Effect, GroupBuy, Step, Team, TeamError, TeamStatus};
use beacon_pricing::{Spec, price};
use chrono::Duration;
use common::{applied, cart, now, promos};
use serde_json::{Value, json};

fn s(x: &str) -> String {
    x.to_string()
}

fn spec(group_buy: Value) -> Value {
    json!({"id": "gb", "name": "两人团 99元", "target": {"products": ["tea"]},
        "reward": {"type": "special_price", "price": "99"}, "group_buy": group_buy})
}

fn rules(group_buy: Value) -> GroupBuy {
    promos(json!([spec(group_buy)]))[0].group_buy.expect("a group-buy")
}

fn join(who: &str) -> Step {
    Step::Join { buyer: s(who), order_id: format!("order-{who}") }
}

fn leave(who: &str) -> Step {
    Step::Leave { order_id: format!("order-{who}") }
}

/// A team of 3 to 4, open for 60 minutes, opened by `a` at `now()`.
fn three_to_four(complete_alone: bool) -> Team {
    let g = rules(json!({"min_members": 3, "max_members": 4, "minutes": 60, "complete_alone": complete_alone}));
    let (team, effects) = g.open("T1", "gb", "a", "order-a", now());
    assert_eq!((team.status, effects), (TeamStatus::Open, vec![]));
    team
}

fn step(team: &Team, step: Step, minutes: i64) -> Result<(Team, Vec<Effect>), TeamError> {
    team.step(&step, now() + Duration::minutes(minutes))
}

fn ok(r: Result<(Team, Vec<Effect>), TeamError>) -> (Team, Vec<Effect>) {
    r.expect("the step is allowed")
}

#[test]
fn a_team_completes_at_min_members_and_takes_members_up_to_max() {
    let t = three_to_four(false);
    let (t, e) = ok(step(&t, join("b"), 1));
    assert_eq!((t.status, e, t.places_left()), (TeamStatus::Open, vec![], 2));
    let (t, e) = ok(step(&t, join("c"), 2));
    assert_eq!(
        (t.status, e, t.completed_at),
        (TeamStatus::Complete, vec![Effect::Completed], Some(now() + Duration::minutes(2)))
    );
    let (t, e) = ok(step(&t, join("d"), 3));
    assert_eq!((t.status, e, t.members.len()), (TeamStatus::Complete, vec![], 4));
    assert_eq!(step(&t, join("e"), 4), Err(TeamError::Full { max_members: 4 }));
    // a team of one completes when it opens
    let (solo, e) = rules(json!({"min_members": 1, "minutes": 10})).open("T2", "gb", "a", "order-a", now());
    assert_eq!((solo.status, e), (TeamStatus::Complete, vec![Effect::Completed]));
}

#[test]
fn joining_is_refused_twice_late_or_to_a_failed_team() {
    let t = three_to_four(false);
    assert_eq!(step(&t, join("a"), 1), Err(TeamError::AlreadyMember));
    let expires_at = now() + Duration::minutes(60);
    assert_eq!(step(&t, join("b"), 60), Err(TeamError::Expired { expires_at }), "the end is excluded");
    let (failed, _) = ok(step(&t, Step::Expire, 60));
    assert_eq!(step(&failed, join("b"), 10), Err(TeamError::Failed));
    assert_eq!(TeamError::Full { max_members: 2 }.code(), "team_full");
}

#[test]
fn the_last_two_joiners_race_and_the_second_finds_the_team_full() {
    let g = rules(json!({"min_members": 2, "max_members": 3, "minutes": 60}));
    let (t, _) = g.open("T1", "gb", "a", "order-a", now());
    let (t, _) = ok(step(&t, join("b"), 1));
    // both read the team with one place left; each step alone is allowed
    assert!(step(&t, join("c"), 2).is_ok() && step(&t, join("d"), 2).is_ok());
    // the store applies them one after the other (its version moved): the second is refused
    let (after_c, _) = ok(step(&t, join("c"), 2));
    assert_eq!(step(&after_c, join("d"), 2), Err(TeamError::Full { max_members: 3 }));
}

#[test]
fn a_member_leaves_an_open_team_and_the_last_to_leave_fails_it() {
    let t = three_to_four(false);
    let (t, _) = ok(step(&t, join("b"), 1));
    assert_eq!(step(&t, leave("zz"), 2), Err(TeamError::NotMember));
    let (t, e) = ok(step(&t, leave("b"), 2));
    assert_eq!((t.status, e, t.places_left()), (TeamStatus::Open, vec![], 3));
    let (t, _) = ok(step(&t, leave("a"), 3));
    assert_eq!(t.status, TeamStatus::Failed);
    assert_eq!(step(&t, leave("a"), 4), Err(TeamError::Failed));
    // after completing, leaving does not undo it
    let (t, _) = ok(step(&three_to_four(false), join("b"), 1));
    let (t, _) = ok(step(&t, join("c"), 1));
    assert_eq!(step(&t, leave("b"), 2), Err(TeamError::AlreadyComplete));
}

#[test]
fn on_expiry_a_short_team_fails_and_refunds_its_members_or_completes_alone() {
    let t = three_to_four(false);
    let (t, _) = ok(step(&t, join("b"), 1));
    let expires_at = now() + Duration::minutes(60);
    assert_eq!(step(&t, Step::Expire, 59), Err(TeamError::NotExpired { expires_at }));
    let (failed, e) = ok(step(&t, Step::Expire, 61));
    assert_eq!(failed.status, TeamStatus::Failed);
    assert_eq!(e, vec![Effect::Refund { orders: vec![s("order-a"), s("order-b")] }]);
    assert_eq!(step(&failed, Step::Expire, 62), Err(TeamError::Failed));
    let (alone, e) = ok(step(&three_to_four(true), Step::Expire, 60));
    assert_eq!((alone.status, e), (TeamStatus::Complete, vec![Effect::Completed]));
    assert_eq!(step(&alone, Step::Expire, 61), Err(TeamError::AlreadyComplete));
}

#[test]
fn the_group_price_is_only_for_team_orders() {
    let p = promos(json!([spec(json!({"min_members": 2, "minutes": 60}))]));
    let mut c = cart(json!([["tea", "茶叶", "128.00", 1]]));
    assert_eq!(price(&c, &p, now()).total, 12_800, "a plain order pays the list price");
    c.group_buy = Some(s("gb"));
    let priced = price(&c, &p, now());
    assert_eq!(applied(&priced.to_json()), [(s("gb"), s("29.00"))]);
}

#[test]
fn a_group_buy_needs_a_target_and_sane_sizes() {
    let compile = |v: Value| Spec::parse(&v.to_string()).and_then(|s| s.compile(Currency::CNY)).map(|_| ());
    let mut no_target = spec(json!({"min_members": 2, "minutes": 60}));
    no_target.as_object_mut().map(|o| o.remove("target"));
    no_target["reward"] = json!({"type": "amount_off", "amount": "5"});
    assert!(compile(no_target).is_err());
    assert!(compile(spec(json!({"min_members": 3, "max_members": 2, "minutes": 60}))).is_err());
    assert!(compile(spec(json!({"min_members": 0, "minutes": 60}))).is_err());
    assert!(compile(spec(json!({"min_members": 2, "minutes": 0}))).is_err());
    assert!(compile(spec(json!({"min_members": 2, "minutes": 60, "size": 3}))).is_err(), "unknown field");
}
