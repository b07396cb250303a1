//! The event log on NATS JetStream, partitioned, processed by three workers
//! side by side on one PostgreSQL, gives the profiles one log processed in
//! order gives. Shoppers browse anonymously (routed by their anonymous id)
//! and log in (routed by their user id), so their histories sit in
//! different partitions and the merges that join them happen across
//! partitions, in whichever order the workers get to them.

mod common;

use common::stream::{SHOPPERS, ingest, profiles, stream};
use common::{Backend, TestApp, TestBus};
use serde_json::{Value, json};
use std::time::Duration;

/// The shared stream, plus anonymous sign-ups naming the email the shopper
/// logs in with and a plan their logins change: the email is linked in the
/// anonymous id's partition and in the user id's at about the same time,
/// and which plan stands depends on the events' times, not on which
/// partition is processed first.
fn messages() -> Vec<Value> {
    let mut out = stream(900);
    for s in 0..SHOPPERS {
        let at = format!("2026-11-11T00:{:02}:30Z", s * 4);
        let signup = json!({"type": "identify", "anonymousId": format!("anon-{s}"), "messageId": format!("signup-{s}"),
            "timestamp": at, "traits": {"email": format!("s{s}@example.com"), "plan": "trial"}});
        out.insert((s as usize * 71) % out.len(), signup);
    }
    // orders placed anonymously and refunded later by a back end that names
    // the user: the refund must find its order, whichever partitions the
    // shopper's ids fall in
    for s in 0..4u64 {
        let order = format!("anon-o-{s}");
        let placed = json!({"type": "track", "anonymousId": format!("anon-{s}"), "event": "Order Completed",
            "messageId": format!("ao-{s}"), "timestamp": "2026-11-11T00:00:05Z",
            "properties": {"order_id": order, "total": "50.00", "currency": "CNY"}});
        let refunded = json!({"type": "track", "userId": format!("user-{s}"), "event": "Order Refunded",
            "messageId": format!("ar-{s}"), "timestamp": "2026-11-11T00:20:00Z",
            "properties": {"order_id": order, "total": "20.00"}});
        out.insert(100 + s as usize, placed);
        out.push(refunded);
    }
    out
}

/// A profile as compared: what the events add up to. Which profile
/// survived a merge, and how many merges it took, depend on which of a
/// shopper's partitions was processed first, so the merge history is left
/// out, and so is the order of the identities (by when the profile first
/// held each: an anonymous id first met in a login processed before the
/// earlier anonymous views of another partition counts from the login);
/// everything else must be equal.
fn comparable(mut profiles: Vec<Value>) -> Vec<Value> {
    for entry in &mut profiles {
        for items in entry.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
            for p in items.as_array_mut().into_iter().flatten() {
                if let Some(p) = p.as_object_mut() {
                    p.remove("merges");
                    if let Some(ids) = p.get_mut("identities").and_then(Value::as_array_mut) {
                        ids.sort_by_key(Value::to_string);
                    }
                }
            }
        }
    }
    profiles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_workers_on_partitions_give_what_one_log_gives() {
    let bus = TestBus::new(6).await;
    let small = |s: &mut beacon_server::settings::Settings| {
        // many small batches, so the partitions' batches interleave
        s.ingest.processor_batch = 8;
        s.ingest.processor_linger_ms = 1;
    };
    let first = TestApp::with_bus(&bus, small).await;
    let second = first.another_node_on(Some(&bus), small).await;
    let third = first.another_node_on(Some(&bus), small).await;
    let messages = messages();
    ingest(&first, &messages).await;
    first.caught_up(Duration::from_secs(90)).await;
    // both workers took partitions
    let held: Vec<(String, String)> = {
        use beacon_store::Store;
        first.store.jobs().leases("processor:partition:", chrono::Utc::now()).await.expect("leases")
    };
    assert_eq!(held.len(), 6, "{held:?}");
    let owners: std::collections::BTreeSet<&String> = held.iter().map(|(_, o)| o).collect();
    assert_eq!(owners.len(), 3, "the partitions are shared: {held:?}");

    let serial = TestApp::new(Backend::Embedded).await;
    ingest(&serial, &messages).await;
    serial.settle().await;
    let (a, b) = (comparable(profiles(&first).await), comparable(profiles(&serial).await));
    assert!(a.iter().any(|p| p.to_string().contains("\"order_count\":")), "the stream places orders");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    let (_, oa) = first.get("/api/v1/overview", common::ADMIN).await;
    let (_, ob) = serial.get("/api/v1/overview", common::ADMIN).await;
    assert_eq!(oa, ob);
    for s in 0..4 {
        let (_, order) = first.get(&format!("/api/v1/orders/anon-o-{s}"), common::ADMIN).await;
        assert_eq!(order["after_sales"][0]["outcome"], "applied", "{order}");
    }
    // a timeline's bodies are read from the chunks the workers kept
    let p = first.profile("user_id:user-3").await;
    let id = p["id"].as_str().expect("id");
    let (status, events) = first.get(&format!("/api/v1/profiles/{id}/events?limit=100"), common::ADMIN).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{events}");
    let items = events["items"].as_array().expect("events");
    assert_eq!(items.len() as i64, p["event_count"].as_i64().expect("count"), "{events}");
    assert!(items.iter().all(|e| e["message_id"].is_string()), "{events}");
    second.stop().await;
    third.stop().await;
    serial.stop().await;
    first.stop().await;
    bus.destroy().await;
}

/// A stream deleted and made again starts its positions over: a store that
/// processed it further refuses it rather than skip what comes next. A
/// node without the bus, or on another stream, is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_made_again_or_a_node_off_the_bus_is_refused() {
    let bus = TestBus::new(2).await;
    let app = TestApp::with_bus(&bus, |_| {}).await;
    ingest(&app, &stream(60)).await;
    app.caught_up(Duration::from_secs(30)).await;
    let settings = beacon_server::bus::BusSettings {
        nats_url: bus.options.url.clone(),
        partitions: 2,
        stream: bus.options.stream.clone(),
        subject_prefix: bus.options.subject_prefix.clone(),
    };
    // a handle of its own: the app's is closed when it stops
    let store = app.try_open(app.store.pii().clone()).await.expect("open");
    app.stop_keeping_database().await;
    assert!(beacon_server::bus::connect(&settings, &store).await.is_ok(), "the same stream is fine");
    // a node set up without the bus, or for another stream, would append where no worker reads
    let no_bus = beacon_server::bus::BusSettings::default();
    let refused = beacon_server::bus::connect(&no_bus, &store).await.err().expect("refused");
    assert!(refused.to_string().contains("--nats-url"), "{refused}");
    let other = beacon_server::bus::BusSettings { stream: format!("{}_OTHER", settings.stream), ..settings.clone() };
    let refused = beacon_server::bus::connect(&other, &store).await.err().expect("refused");
    assert!(refused.to_string().contains("not nats:"), "{refused}");
    let again = beacon_bus::nats::NatsBus::connect(&bus.options).await.expect("connect");
    again.destroy().await.expect("delete the stream");
    let refused = beacon_server::bus::connect(&settings, &store).await.err().expect("refused");
    assert!(refused.to_string().contains("made again"), "{refused}");
    store.close().await;
    bus.destroy().await;
}

/// Moving a cluster's event log onto NATS: refused while the log table
/// holds events no worker processed (partition workers never read it),
/// accepted once they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_onto_the_bus_waits_for_the_log_table() {
    let bus = TestBus::new(2).await;
    let app = TestApp::with(Backend::Postgres, |s| s.ingest.run_processor = false).await;
    ingest(&app, &stream(30)).await;
    let settings = beacon_server::bus::BusSettings {
        nats_url: bus.options.url.clone(),
        partitions: 2,
        stream: bus.options.stream.clone(),
        subject_prefix: bus.options.subject_prefix.clone(),
    };
    let refused = beacon_server::bus::connect(&settings, app.store.as_ref()).await.err().expect("refused");
    assert!(refused.to_string().contains("catch up"), "{refused}");
    {
        use beacon_store::Store;
        assert_eq!(app.store.log_home().await.expect("home"), None, "nothing recorded by a refusal");
    }
    app.settle().await;
    assert!(beacon_server::bus::connect(&settings, app.store.as_ref()).await.is_ok());
    app.stop().await;
    bus.destroy().await;
}
