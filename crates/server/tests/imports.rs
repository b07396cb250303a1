//! Uploaded imports on both stores (`/api/v1/imports`, the console's
//! Import screen): a CSV of orders with bad lines is read in the
//! background, its progress ends at every byte, the good orders are
//! recorded, the bad lines come back as CSV with their reason and text; the
//! same file again stores nothing twice; customers (JSONL) and products
//! go through their own checks; a file that cannot be read, a viewer, an
//! unknown import are refused.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ADMIN, TestApp, VIEWER};
use serde_json::Value;

const ORDERS: &str = "order_id,user_id,email,placed_at,currency,product_id,price,quantity\n\
    O-1,u1,lei@example.cn,2026-11-01T10:00:00Z,CNY,tea,10.50,2\n\
    O-1,u1,lei@example.cn,2026-11-01T10:00:00Z,CNY,cup,5.00,1\n\
    O-2,u2,,2026-11-02,CNY,tea,10.50,1\n\
    O-3,u3,,not-a-date,CNY,tea,10.50,1\n\
    O-4,u4,,2026-11-03T08:00:00+08:00,CNY,tea,-1,1\n\
    O-5,u5,mei@example.cn,2026-11-04 09:30:00,CNY,cup,5.00,3\n";

async fn upload(app: &TestApp, key: &str, query: &str, content_type: &str, body: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/imports?{query}"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .expect("request");
    let (s, v, _) = app.request(req).await;
    (s, v)
}

/// Polls the import until it is no longer running; every answer's
/// progress never goes back.
async fn finished(app: &TestApp, id: &str) -> Value {
    let mut last = 0;
    for _ in 0..400 {
        let (s, i) = app.get(&format!("/api/v1/imports/{id}"), ADMIN).await;
        assert_eq!(s, StatusCode::OK, "{i}");
        let read = i["bytes_read"].as_i64().expect("bytes_read");
        assert!(read >= last, "progress went back: {i}");
        last = read;
        if i["status"] != "running" {
            return i;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("import {id} did not finish");
}

async fn rejects_csv(app: &TestApp, id: &str) -> String {
    let req = Request::builder()
        .uri(format!("/api/v1/imports/{id}/rejects"))
        .header("authorization", format!("Bearer {ADMIN}"))
        .body(Body::empty())
        .expect("request");
    let (s, v, headers) = app.request(req).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"].to_str().is_ok_and(|d| d.starts_with("attachment")));
    v.as_str().expect("CSV text").to_string()
}

async fn orders_with_bad_lines(app: &TestApp) {
    let (s, started) = upload(app, ADMIN, "kind=orders&name=%E8%AE%A2%E5%8D%95.csv", "text/csv", ORDERS).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    assert_eq!((started["kind"].as_str(), started["format"].as_str()), (Some("orders"), Some("csv")));
    assert_eq!(started["file_name"], "订单.csv");
    let id = started["id"].as_str().expect("id").to_string();
    let done = finished(app, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["bytes_read"], done["bytes_total"], "{done}");
    assert_eq!(done["bytes_total"], ORDERS.len() as i64);
    // O-1 (two lines), O-2, O-5 taken; O-3 (a date) and O-4 (a price) not
    assert_eq!(
        (done["lines"].as_i64(), done["accepted"].as_i64(), done["rejected"].as_i64()),
        (Some(6), Some(3), Some(2))
    );
    app.settle().await;
    let (_, o1) = app.get("/api/v1/orders/O-1", ADMIN).await;
    assert_eq!((o1["lines"].as_array().map(Vec::len), o1["total"].as_str()), (Some(2), Some("26.00")), "{o1}");
    let (s, _) = app.get("/api/v1/orders/O-3", ADMIN).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let csv = rejects_csv(app, &id).await;
    let csv = csv.strip_prefix('\u{feff}').expect("a BOM for spreadsheets");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "line,column,reason,text");
    assert!(
        lines[1].starts_with("5,placed_at,") && lines[1].ends_with(",\"O-3,u3,,not-a-date,CNY,tea,10.50,1\""),
        "{csv}"
    );
    assert!(lines[2].starts_with("6,price,") && lines[2].contains("is negative"), "{csv}");
    assert_eq!(lines.len(), 3, "{csv}");

    // the same file again: the same ids, nothing stored twice
    let (_, before) = app.get("/api/v1/overview", ADMIN).await;
    let (s, again) = upload(app, ADMIN, "kind=orders&format=csv", "application/octet-stream", ORDERS).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{again}");
    let again = finished(app, again["id"].as_str().expect("id")).await;
    assert_eq!((again["accepted"].as_i64(), again["rejected"].as_i64()), (Some(3), Some(2)), "{again}");
    app.settle().await;
    let (_, after) = app.get("/api/v1/overview", ADMIN).await;
    assert_eq!(before["orders"], after["orders"], "{before} {after}");
    assert_eq!(after["orders"], 3, "{after}");

    let (_, list) = app.get("/api/v1/imports", ADMIN).await;
    let ids: Vec<&str> = list["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids.len(), 2, "{list}");
    assert_eq!(ids[1], id, "newest first");
}

async fn customers_and_products(app: &TestApp) {
    let customers = "{\"user_id\": \"c1\", \"email\": \"Han@Example.cn\", \"city\": \"杭州\"}\n\
                     {\"user_id\": \"c2\", \"email\": \"not an email\"}\n\
                     [1, 2]\n";
    let (s, started) = upload(app, ADMIN, "kind=customers", "application/x-ndjson", customers).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    let done = finished(app, started["id"].as_str().expect("id")).await;
    assert_eq!((done["accepted"].as_i64(), done["rejected"].as_i64()), (Some(1), Some(2)), "{done}");
    app.settle().await;
    let c1 = app.profile("user_id:c1").await;
    assert_eq!(c1["traits"]["city"], "杭州", "{c1}");
    let csv = rejects_csv(app, done["id"].as_str().expect("id")).await;
    assert!(csv.contains("invalid_identity") && csv.contains("not a JSON object"), "{csv}");

    let products = "product_id,name,price,stock\nP-1,龙井,88.00,5\nP-2,,1.00,1\n";
    let (s, started) = upload(app, ADMIN, "kind=products&name=p.csv", "text/plain", products).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    let done = finished(app, started["id"].as_str().expect("id")).await;
    assert_eq!((done["accepted"].as_i64(), done["rejected"].as_i64()), (Some(1), Some(1)), "{done}");
    let (s, p1) = app.get("/api/v1/products/P-1", ADMIN).await;
    assert_eq!((s, p1["name"].as_str()), (StatusCode::OK, Some("龙井")), "{p1}");
}

async fn refused_uploads(app: &TestApp) {
    let csv = "text/csv";
    let cases: [(&str, &str, &str, &str, StatusCode, &str); 6] = [
        (ADMIN, "kind=orders&format=csv", csv, "", StatusCode::BAD_REQUEST, "invalid_file"),
        (ADMIN, "kind=orders&format=csv", csv, ",a\n1,2\n", StatusCode::BAD_REQUEST, "invalid_file"),
        (ADMIN, "kind=refunds&format=csv", csv, "a\n1\n", StatusCode::BAD_REQUEST, "invalid_parameter"),
        // no format, no type, no name to tell it by
        (ADMIN, "kind=orders", "application/octet-stream", "a\n1\n", StatusCode::BAD_REQUEST, "invalid_parameter"),
        (ADMIN, "kind=orders&format=csv&map=nofield", csv, "a\n1\n", StatusCode::BAD_REQUEST, "invalid_parameter"),
        (VIEWER, "kind=orders&format=csv", csv, "a\n1\n", StatusCode::FORBIDDEN, "forbidden"),
    ];
    for (key, query, content_type, body, status, code) in cases {
        let (s, v) = upload(app, key, query, content_type, body).await;
        assert_eq!((s, v["error"]["code"].as_str()), (status, Some(code)), "{query} {body:?}: {v}");
    }
    let (_, list) = app.get("/api/v1/imports", ADMIN).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "nothing recorded: {list}");
    for path in ["/api/v1/imports/imp_nope", "/api/v1/imports/imp_nope/rejects"] {
        let (s, _) = app.get(path, ADMIN).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = app.get("/api/v1/imports", VIEWER).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both_backends!(orders_with_bad_lines, customers_and_products, refused_uploads);
