//! Console users and sessions on both stores: an email is one user (any
//! case), updates and password changes are audited, the last admin stays,
//! disabling or a new password ends sessions.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::access::Role;
use beacon_store::*;
use fixtures::t;

fn user(id: &str, email: &str, role: Role) -> User {
    User {
        id: id.into(),
        email: email.into(),
        name: "李雷".into(),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        locale: Some("zh-CN".into()),
        created_at: t(1),
        password_changed_at: t(1),
        disabled_at: None,
    }
}

fn session(token: u8, user_id: &str) -> Session {
    Session {
        token_hash: vec![token; 32],
        user_id: user_id.into(),
        csrf: format!("csrf-{token}"),
        created_at: t(2),
        last_seen_at: t(2),
        expires_at: t(50),
        revoked_at: None,
        user_agent: Some("test".into()),
    }
}

async fn users_and_sessions(store: &SqlStore) {
    let users = store.users();
    let admin = user("u_admin", "Admin@Shop.cn", Role::Admin);
    users.insert_user(&admin, "cli").await.expect("insert");
    let dup = user("u_other", "admin@shop.cn", Role::Viewer);
    assert!(matches!(users.insert_user(&dup, "cli").await, Err(StoreError::Conflict(_))), "one user per email");
    let found = users.find_user_by_email(" ADMIN@shop.CN ").await.expect("find").expect("found");
    assert_eq!(
        (found.email.as_str(), found.role, found.locale.as_deref()),
        ("admin@shop.cn", Role::Admin, Some("zh-CN"))
    );
    users.insert_user(&user("u_fin", "finance@shop.cn", Role::Viewer), "u_admin").await.expect("insert");
    assert_eq!(users.list_users().await.expect("list").len(), 2);

    // the last enabled admin cannot be demoted or disabled
    let demote = UserChange { role: Some(Role::Marketer), ..Default::default() };
    assert!(matches!(users.update_user("u_admin", &demote, t(3), "u_admin").await, Err(StoreError::Conflict(_))));
    let disable = UserChange { disabled: Some(true), ..Default::default() };
    assert!(matches!(users.update_user("u_admin", &disable, t(3), "u_admin").await, Err(StoreError::Conflict(_))));
    assert!(matches!(users.update_user("nobody", &disable, t(3), "u_admin").await, Err(StoreError::NotFound)));

    // sessions: found by hash; disabling the user ends them
    users.insert_session(&session(1, "u_fin")).await.expect("session");
    users.insert_session(&session(2, "u_fin")).await.expect("session");
    assert_eq!(users.find_session(&[1; 32]).await.expect("find"), Some(session(1, "u_fin")));
    users.touch_session(&[1; 32], t(5)).await.expect("touch");
    assert_eq!(users.find_session(&[1; 32]).await.expect("find").map(|s| s.last_seen_at), Some(t(5)));
    assert_eq!(users.user_sessions("u_fin", t(6)).await.expect("live").len(), 2);
    assert_eq!(users.user_sessions("u_fin", t(50)).await.expect("live").len(), 0, "expired");
    let off = users.update_user("u_fin", &disable, t(7), "u_admin").await.expect("disable");
    assert_eq!(off.disabled_at, Some(t(7)));
    assert!(users.user_sessions("u_fin", t(8)).await.expect("live").is_empty(), "disabling ends its sessions");
    assert!(!users.revoke_session(&[1; 32], t(8)).await.expect("revoke"), "already ended");

    // a new password ends every other session of the user
    users.insert_session(&session(3, "u_admin")).await.expect("session");
    users.insert_session(&session(4, "u_admin")).await.expect("session");
    users.set_password("u_admin", "$argon2id$new", Some(&[3; 32]), t(9), "u_admin").await.expect("password");
    let live: Vec<Vec<u8>> =
        users.user_sessions("u_admin", t(10)).await.expect("live").into_iter().map(|s| s.token_hash).collect();
    assert_eq!(live, vec![vec![3u8; 32]]);
    let changed = users.get_user("u_admin").await.expect("get").expect("found");
    assert_eq!((changed.password_hash.as_str(), changed.password_changed_at), ("$argon2id$new", t(9)));
    assert_eq!(users.revoke_user_sessions("u_admin", t(11)).await.expect("revoke all"), 1);

    // every change is in the audit log, and no password hash is
    let audit = store.audit().list_audit(None, &PageRequest { after: None, limit: 50 }).await.expect("audit");
    let actions: Vec<&str> = audit.items.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(actions, ["user.password", "user.update", "user.create", "user.create"]);
    let text = format!("{:?}", audit.items);
    assert!(!text.contains("argon2"), "{text}");
}

both_stores!(users_and_sessions);
