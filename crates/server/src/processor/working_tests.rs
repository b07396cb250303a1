use super::*;
use crate::processor::settled::settled_on;

fn id(kind: IdentityKind, value: &str) -> Identity {
    Identity { kind, value: value.into() }
}

fn found(identities: Vec<Identity>) -> Extracted {
    Extracted { identities, previous_id: None, traits: Default::default(), skipped: Vec::new(), consents: Vec::new() }
}

#[test]
fn an_event_is_settled_only_on_one_holder_of_all_it_names() {
    let (p, q) = (ProfileId(uuid::Uuid::now_v7()), ProfileId(uuid::Uuid::now_v7()));
    let (user, device, email) =
        (id(IdentityKind::UserId, "u1"), id(IdentityKind::AnonymousId, "d1"), id(IdentityKind::Email, "a@x.cn"));
    let mut held: HashMap<Identity, Vec<ProfileId>> = HashMap::new();
    held.insert(user.clone(), vec![p]);
    held.insert(device.clone(), vec![p]);
    held.insert(email.clone(), vec![p, q]);
    assert_eq!(settled_on(&found(vec![user.clone(), device.clone()]), true, &held), Some(p));
    // an order, or traits: the profile is read
    assert_eq!(settled_on(&found(vec![user.clone()]), false, &held), None);
    let mut with_traits = found(vec![user.clone()]);
    with_traits.traits.insert("tier".into(), "gold".into());
    assert_eq!(settled_on(&with_traits, true, &held), None);
    // shared by two, held by nobody, an alias, or no identity at all
    assert_eq!(settled_on(&found(vec![user.clone(), email]), true, &held), None);
    assert_eq!(settled_on(&found(vec![user.clone(), id(IdentityKind::Phone, "+8613800138000")]), true, &held), None);
    let mut alias = found(vec![user.clone()]);
    alias.previous_id = Some("d1".into());
    assert_eq!(settled_on(&alias, true, &held), None);
    assert_eq!(settled_on(&found(vec![]), true, &held), None);
    // two identities held by two different profiles
    held.insert(device.clone(), vec![q]);
    assert_eq!(settled_on(&found(vec![user, device]), true, &held), None);
}
