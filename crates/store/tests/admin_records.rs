//! The conformance suite's admin records (see `conformance.rs`): keys and
//! their audit entries, and the catalog, on the embedded store and
//! PostgreSQL alike.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::access::Role;
use beacon_store::*;
use common::Harness;
use fixtures::t;

async fn keys_and_audit_round_trip(store: &SqlStore) {
    let key = ApiKey {
        id: "key_1".into(),
        name: "ops".into(),
        kind: KeyKind::Secret(Role::Analyst),
        hash: vec![1, 2, 3],
        prefix: "bk_sec_ab".into(),
        created_at: t(1),
        revoked_at: None,
    };
    store.keys().insert_key(&key, "admin").await.expect("insert");
    let dup = ApiKey { id: "key_2".into(), ..key.clone() };
    assert!(matches!(store.keys().insert_key(&dup, "admin").await, Err(StoreError::Conflict(_))));
    assert_eq!(store.keys().find_key_by_hash(&[1, 2, 3]).await.expect("find"), Some(key.clone()));
    assert_eq!(store.keys().count_keys().await.ok(), Some(1));
    let revoked = store.keys().revoke_key("key_1", t(2), "admin").await.expect("revoke");
    assert_eq!(revoked.revoked_at, Some(t(2)));
    assert!(matches!(store.keys().revoke_key("nope", t(2), "admin").await, Err(StoreError::NotFound)));
    // each change wrote its audit entry with it; the refused ones wrote none
    let audit = store.audit().list_audit(None, &PageRequest { after: None, limit: 10 }).await.expect("audit");
    let seen: Vec<(&str, &str, &str)> = audit
        .items
        .iter()
        .map(|e| (e.entry.action.as_str(), e.entry.target.as_str(), e.entry.actor.as_str()))
        .collect();
    assert_eq!(seen, [("key.revoke", "key:key_1", "admin"), ("key.create", "key:key_1", "admin")]);
    assert_eq!(audit.items[0].entry.before.as_ref().map(|b| b["revoked_at"].clone()), Some(serde_json::Value::Null));
    assert_eq!(audit.items[0].entry.after.as_ref().map(|a| a["role"].clone()), Some(serde_json::json!("analyst")));
    assert!(!audit.items[1].entry.after.as_ref().is_some_and(|a| a.to_string().contains("hash")), "no hash audited");
    for n in 0..3 {
        store
            .audit()
            .append_audit(&NewAuditEntry {
                at: t(n),
                actor: "key_1".into(),
                action: "key.create".into(),
                target: format!("key_{n}"),
                before: None,
                after: Some(serde_json::json!({"n": n})),
            })
            .await
            .expect("audit");
    }
    let page = store.audit().list_audit(None, &PageRequest { after: None, limit: 2 }).await.expect("audit");
    assert_eq!(page.items.iter().map(|e| e.entry.target.as_str()).collect::<Vec<_>>(), ["key_2", "key_1"]);
    let rest = store.audit().list_audit(None, &PageRequest { after: page.next, limit: 2 }).await.expect("audit");
    assert_eq!(rest.items.len(), 2, "key_0, then the key's own revoke entry");
    assert_eq!(rest.items[0].entry.after, Some(serde_json::json!({"n": 0})));
}

fn product(id: &str, sku: &str, category: &str, price: &str, tags: &[&str]) -> Product {
    let v = serde_json::json!({"product_id": id, "sku": sku, "name": format!("商品 {id}"), "category": category,
        "price": price, "stock": 10, "tags": tags, "brand": "狮峰"});
    beacon_core::catalog::parse_product(v.as_object().expect("object"), beacon_core::Currency::CNY).expect("valid")
}

async fn the_catalog_saves_lists_and_audits_products(store: &SqlStore) {
    let tea = product("tea-1", "T1", "茶叶/绿茶", "298.00", &["新品"]);
    let cup = product("cup-1", "C1", "茶具", "59.00", &[]);
    let oolong = product("tea-2", "T2", "茶叶/乌龙", "158.00", &["新品", "礼盒"]);
    let saved =
        store.catalog().save_products(&[tea.clone(), cup.clone(), oolong.clone()], "key_1", t(1)).await.expect("save");
    assert_eq!(saved, [Saved::Created, Saved::Created, Saved::Created]);
    let mut dearer = tea.clone();
    dearer.price.minor = 31_800;
    dearer.stock = 9;
    let taken = product("tea-3", "T1", "茶叶", "1", &[]);
    let saved =
        store.catalog().save_products(&[cup.clone(), dearer.clone(), taken], "key_2", t(2)).await.expect("save");
    assert_eq!(saved, [Saved::Unchanged, Saved::Updated, Saved::SkuTaken("tea-1".into())]);
    let history =
        store.audit().list_audit(Some("product:tea-1"), &PageRequest { after: None, limit: 10 }).await.expect("audit");
    let last = &history.items[0].entry;
    assert_eq!((last.action.as_str(), last.actor.as_str(), last.at), ("product.update", "key_2", t(2)));
    assert_eq!(last.before, Some(serde_json::json!({"price": "298.00", "stock": 10})));
    assert_eq!(last.after, Some(serde_json::json!({"price": "318.00", "stock": 9})));
    assert_eq!(history.items.len(), 2, "created, then updated once");
    let got = store.catalog().get_product("tea-1").await.expect("get").expect("found");
    assert_eq!((got.product, got.created_at, got.updated_at), (dearer, t(1), t(2)));

    let ids = |q: ProductQuery| async move {
        let page = store.catalog().list_products(&q).await.expect("list");
        page.items.into_iter().map(|p| p.product.product_id).collect::<Vec<_>>()
    };
    let page = PageRequest { after: None, limit: 10 };
    let q = |f: fn(&mut ProductQuery)| {
        let mut q = ProductQuery { page: page.clone(), ..Default::default() };
        f(&mut q);
        q
    };
    assert_eq!(ids(q(|q| q.category = Some(vec!["茶叶".into()]))).await, ["tea-1", "tea-2"], "with sub-categories");
    assert_eq!(ids(q(|q| q.category = Some(vec!["茶".into()]))).await, Vec::<String>::new(), "a name, not a prefix");
    assert_eq!(ids(q(|q| q.tag = Some("礼盒".into()))).await, ["tea-2"]);
    assert_eq!(ids(q(|q| q.name_contains = Some("TEA-2".into()))).await, ["tea-2"]);
    assert_eq!(ids(q(|q| q.brand = Some("狮峰".into()))).await.len(), 3);
    let two = ProductQuery { page: PageRequest { after: None, limit: 2 }, ..Default::default() };
    let first = store.catalog().list_products(&two).await.expect("list");
    let rest = ProductQuery { page: PageRequest { after: first.next, limit: 2 }, ..Default::default() };
    assert_eq!(ids(rest).await, ["tea-2"]);
    let cats = store.catalog().categories().await.expect("categories");
    assert_eq!(cats.iter().map(|(p, n)| (p.join("/"), *n)).collect::<Vec<_>>().len(), 3);
    assert!(store.catalog().delete_product("cup-1", "key_1", t(3)).await.expect("delete"));
    assert!(!store.catalog().delete_product("cup-1", "key_1", t(3)).await.expect("delete"));
    assert_eq!(store.catalog().get_product("cup-1").await.expect("get"), None);
}

#[tokio::test]
async fn embedded_keys() {
    let h = Harness::embedded().await;
    keys_and_audit_round_trip(&h.store).await;
    h.cleanup().await;
}

#[tokio::test]
async fn postgres_keys() {
    let h = Harness::postgres().await;
    keys_and_audit_round_trip(&h.store).await;
    h.cleanup().await;
}

#[tokio::test]
async fn embedded_catalog() {
    let h = Harness::embedded().await;
    the_catalog_saves_lists_and_audits_products(&h.store).await;
    h.cleanup().await;
}

#[tokio::test]
async fn postgres_catalog() {
    let h = Harness::postgres().await;
    the_catalog_saves_lists_and_audits_products(&h.store).await;
    h.cleanup().await;
}
