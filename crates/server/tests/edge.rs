//! The edge role: a node that serves ingest and anonymous cart pricing on
//! the core's PostgreSQL database, holds no key that opens personal data,
//! and cannot open an email or phone even when asked.

mod common;

use axum::http::{Method, StatusCode};
use beacon_store::Store as _;
use common::{ADMIN, Backend, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_ingests_and_prices_but_opens_no_personal_data() {
    let core = TestApp::new(Backend::Postgres).await;
    // sealing for another core's key would make what it ingests unreadable here: refused at start
    let stranger = beacon_store::PiiCipher::new(&[4; 32]).edge_public_key().unwrap_or_default();
    let refused = core.try_open(beacon_store::PiiCipher::sealing_for(&stranger).expect("cipher")).await;
    assert!(refused.is_err_and(|e| e.to_string().contains("not the key of this database's core nodes")));
    let edge = core.edge_node().await;
    assert!(!edge.store.pii().opens() && edge.store.pii().edge_public_key().is_none());

    // ingest on the edge: the personal data goes into the log sealed for the core
    let identify = json!({"type": "identify", "userId": "edge-1", "messageId": "e-1",
        "traits": {"email": "Edge.Shopper@Example.com", "phone": "13800138000", "name": "边缘"}});
    assert_eq!(edge.ingest("/v1/identify", &identify.to_string()).await.0, StatusCode::OK);
    let view = json!({"type": "track", "userId": "edge-1", "event": "Product Viewed", "messageId": "e-2"});
    assert_eq!(edge.ingest("/v1/track", &view.to_string()).await.0, StatusCode::OK);

    // asked to, the edge opens nothing: reading its own log back fails, not leaks
    edge.store.log().sync().await.expect("sync");
    assert!(edge.store.log().read(0, 10).await.is_err(), "an edge cannot open the log's personal data");
    assert!(edge.store.pii().decrypt(&core.store.pii().encrypt("a@b.co")).is_err());
    // and it serves no route that reads a profile
    for path in ["/api/v1/profiles?identity=user_id:edge-1", "/api/v1/orders", "/api/v1/overview"] {
        let (s, v) = edge.get(path, ADMIN).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("route_not_found")), "{path}");
    }

    // the core processes what the edge took in and opens it
    core.settle().await;
    let p = core.profile("email:edge.shopper@example.com").await;
    assert_eq!(p["traits"]["email"], "Edge.Shopper@Example.com");
    assert_eq!(p["event_count"], 2);
    let found = core.profile("phone:%2B8613800138000").await;
    assert_eq!(found["id"], p["id"]);

    // pricing: an anonymous cart on the edge, a known shopper's only on a core node
    let (s, v) = core
        .send(
            Method::POST,
            "/api/v1/promotions",
            ADMIN,
            json!({"id": "ten", "name": "九折", "status": "active",
            "reward": {"type": "percent_off", "percent": "10"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let cart = json!({"lines": [{"product_id": "tea", "price": "100.00"}]});
    let (s, v) = edge.send(Method::POST, "/api/v1/carts/price", ADMIN, cart).await;
    assert_eq!((s, v["total"].as_str()), (StatusCode::OK, Some("90.00")), "{v}");
    for who in [json!({"user_id": "edge-1"}), json!({"email": "edge.shopper@example.com"}), json!({"points": 10})] {
        let mut cart = json!({"lines": [{"product_id": "tea", "price": "100.00"}]});
        cart.as_object_mut().expect("object").extend(who.as_object().cloned().unwrap_or_default());
        let (s, v) = edge.send(Method::POST, "/api/v1/carts/price", ADMIN, cart).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("edge_anonymous_only")), "{v}");
    }
    let (s, v) = core
        .send(
            Method::POST,
            "/api/v1/carts/price",
            ADMIN,
            json!({"user_id": "edge-1",
            "lines": [{"product_id": "tea", "price": "100.00"}]}),
        )
        .await;
    assert_eq!((s, v["profile_id"].clone()), (StatusCode::OK, p["id"].clone()), "{v}");
    edge.stop().await;
    core.stop().await;
}

#[test]
fn an_edge_is_refused_without_the_cores_key_or_with_a_key_of_its_own() {
    use beacon_server::settings::Settings;
    let edge = |public: &str, secret: &str| {
        let mut s = Settings::default();
        s.server.role = "edge".into();
        s.storage.database_url = "postgres://postgres@127.0.0.1:5432/test".into();
        s.security.edge_public_key = public.into();
        s.security.encryption_key = secret.into();
        s.problems().join("; ")
    };
    let public = beacon_store::PiiCipher::new(&[3; 32]).edge_public_key().unwrap_or_default();
    assert_eq!(edge(&public, ""), "");
    assert!(edge("", "").contains("security.edge_public_key"));
    assert!(edge("not a key", "").contains("security.edge_public_key must be"));
    assert!(edge(&public, &"ab".repeat(32)).contains("holds no encryption key"));
    let mut core = Settings::default();
    core.security.edge_public_key = public;
    assert!(core.problems().join("; ").contains("for server.role edge only"));
}
