//! A newer binary opens a data directory written by an older one: migrations
//! run at start-up and the old data stays readable (personal data included).

mod common;

use common::Server;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("fixture") {
        let entry = entry.expect("entry");
        if entry.file_name() != "README.md" {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

#[test]
fn the_current_binary_reads_a_version_1_data_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    copy_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/datadir-v1"), &data);
    let server = Server::start(&data, None);
    server.wait_processed();
    let (s, found) = server.get("/api/v1/profiles?identity=email:fixture@example.com");
    assert_eq!(s, 200, "{found}");
    let p = &found["items"][0];
    assert_eq!(p["event_count"], 4, "{p}");
    assert_eq!(p["traits"]["name"], "样本");
    assert_eq!(p["merges"][0]["reason"]["kind"], "alias");
    let (s, _) = server.get("/api/v1/profiles?identity=user_id:fixture-old");
    assert_eq!(s, 200);
    // the timeline moved to the batched layout: every event, with its body read from the log
    let id = p["id"].as_str().expect("id").to_string();
    let (s, timeline) = server.get(&format!("/api/v1/profiles/{id}/events?limit=10"));
    assert_eq!(s, 200, "{timeline}");
    let items = timeline["items"].as_array().expect("items");
    assert_eq!(items.len(), 4, "{timeline}");
    assert!(items.iter().any(|e| e["type"] == "alias"), "{timeline}");
    let email = items.iter().find(|e| e.to_string().contains("fixture@example.com"));
    assert!(email.is_some(), "personal data in the payload opened: {timeline}");
    // events from before segments kept properties get them from the log in
    // the background: a filter on one of the old track's properties finds it
    let track = items.iter().find(|e| e["type"] == "track").expect("the track");
    let props = track["message"]["properties"].as_object().cloned().unwrap_or_default();
    let (key, value) = props.iter().find_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).expect("a property");
    let text = format!(r#"performed "Product Viewed" >= 1 where {key} = "{value}""#);
    let mut count = None;
    for _ in 0..100 {
        let (s, v) = common::admin_post(&server, "/api/v1/segments/estimate", &serde_json::json!({ "text": text }));
        assert_eq!(s, 200, "{v}");
        count = v["count"].as_u64();
        if count == Some(1) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(count, Some(1), "{text}");
    // and the old events still dedupe: an SDK's retry of one, the message
    // as it was sent, changes nothing
    let first = &items[items.len() - 1];
    assert!(first["message"]["messageId"].is_string(), "{first}");
    let again = first["message"].clone();
    let (s, _) = server.post_events("/v1/batch", serde_json::json!({"batch": [again]}).to_string().as_bytes());
    assert_eq!(s, 200);
    // and it keeps working: a new event from the shop's back end lands on
    // the same profile (the old write key is a client's now: docs/SECURITY.md)
    let (s, _) = server.post_events_as(
        &server.server_key(),
        "/v1/track",
        br#"{"userId":"fixture-user","event":"Order Completed","messageId":"after-upgrade","properties":{"order_id":"up-1","total":"8.80"}}"#,
    );
    assert_eq!(s, 200);
    server.wait_processed();
    let (_, again) = server.get("/api/v1/profiles?identity=phone:%2B8613700000000");
    assert_eq!(again["items"][0]["event_count"], 5);
    // the commerce tables came with the upgrade
    assert_eq!(again["items"][0]["order_count"], 1, "{again}");
    assert_eq!(again["items"][0]["total_spend"]["amount"], "8.80");
    // the overview's totals: counted once at the upgrade, kept since
    let (s, o) = server.get("/api/v1/overview");
    assert_eq!(
        (s, o["profiles"].clone(), o["events"].clone()),
        (200, serde_json::json!(1), serde_json::json!(5)),
        "{o}"
    );
}
