//! Reading saved segments' members over the API, for the real-time tests.

use super::{ADMIN, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::json;

/// The id of the profile `user_id:{user}` lands on.
pub async fn id_of(app: &TestApp, user: &str) -> String {
    app.profile(&format!("user_id:{user}")).await["id"].as_str().expect("profile").to_string()
}

/// The saved segments a profile is in.
pub async fn segments_of(app: &TestApp, id: &str) -> Vec<String> {
    let (_, v) = app.get(&format!("/api/v1/profiles/{id}/segments"), ADMIN).await;
    v["items"].as_array().expect("items").iter().map(|s| s["segment_id"].as_str().unwrap_or("").to_string()).collect()
}

/// Kept members are what deciding from scratch finds: a refresh changes nothing.
pub async fn kept_as_decided(app: &TestApp, segment: &str) {
    let (s, v) = app.send(Method::POST, &format!("/api/v1/segments/{segment}/refresh"), ADMIN, json!({})).await;
    assert_eq!((s, v["entered"].as_u64(), v["exited"].as_u64()), (StatusCode::OK, Some(0), Some(0)), "{segment}: {v}");
}

/// Saves segment `id` from its text form.
pub async fn save(app: &TestApp, id: &str, text: &str) {
    let (s, v) = app.send(Method::POST, "/api/v1/segments", ADMIN, json!({"id": id, "name": id, "text": text})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
