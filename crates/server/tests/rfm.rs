//! RFM on the CDNOW purchase panel (69,659 transactions of 23,570
//! customers, testdata/cdnow), uploaded as orders on both stores: every
//! customer's recency, frequency and monetary value as of 1998-07-01 equal
//! what an analyst computes from the raw file, and so do the quintile
//! scores and groups — computed here another way (counts per value, not a
//! search in sorted values). One customer by hand, the grid adding up, the
//! profile's `rfm` and a bad `as_of`.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use common::{ADMIN, TestApp};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

const CDNOW: &str = include_str!("../../../testdata/cdnow/cdnow_transactions.csv");

/// (last day, transactions, cents) per customer, from the raw lines.
fn by_hand() -> BTreeMap<String, (NaiveDate, u64, i64)> {
    let mut out: BTreeMap<String, (NaiveDate, u64, i64)> = BTreeMap::new();
    for line in CDNOW.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let day = NaiveDate::parse_from_str(cols[1], "%Y%m%d").expect("date");
        let (dollars, cents) = cols[3].split_once('.').unwrap_or((cols[3], "0"));
        let cents =
            dollars.parse::<i64>().expect("dollars") * 100 + format!("{cents:0<2}").parse::<i64>().expect("cents");
        let e = out.entry(cols[0].to_string()).or_insert((day, 0, 0));
        e.0 = e.0.max(day);
        e.1 += 1;
        e.2 += cents;
    }
    out
}

/// `1 + ⌊5 × worse / n⌋` per value, from how many customers have each value.
fn scores<T: Ord + Copy + std::hash::Hash>(values: &[T], larger_is_better: bool) -> HashMap<T, u8> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(*v).or_default() += 1;
    }
    let n = values.len();
    let mut out = HashMap::new();
    let mut below = 0;
    for (v, c) in &counts {
        let worse = if larger_is_better { below } else { n - below - c };
        out.insert(*v, (1 + 5 * worse / n) as u8);
        below += c;
    }
    out
}

fn group(r: u8, f: u8, m: u8) -> &'static str {
    match (r >= 3, f >= 3, m >= 3) {
        (true, true, true) => "champions",
        (false, true, true) => "loyal",
        (true, false, true) => "potential",
        (false, false, true) => "at_risk",
        (true, true, false) => "promising",
        (true, false, false) => "new",
        (false, true, false) => "hibernating",
        (false, false, false) => "lost",
    }
}

async fn upload_cdnow(app: &TestApp) {
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/imports?kind=orders&format=csv&preset=cdnow")
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "text/csv")
        .body(Body::from(CDNOW))
        .expect("request");
    let (s, started, _) = app.request(req).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    let id = started["id"].as_str().expect("id").to_string();
    for _ in 0..2400 {
        let (_, i) = app.get(&format!("/api/v1/imports/{id}"), ADMIN).await;
        if i["status"] != "running" {
            assert_eq!((i["status"].as_str(), i["accepted"].as_i64()), (Some("done"), Some(69_659)), "{i}");
            // (the points jobs of 69,659 orders are the workers' business, not this test's)
            app.process().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the CDNOW import did not finish");
}

/// Every customer's RFM through the API, by user id.
async fn all_rfm(app: &TestApp, as_of: &str) -> HashMap<String, Value> {
    let mut user_of: HashMap<String, String> = HashMap::new();
    let mut cursor = String::new();
    loop {
        let (s, page) = app.get(&format!("/api/v1/profiles?limit=200&rfm_as_of={as_of}{cursor}"), ADMIN).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for p in page["items"].as_array().expect("items") {
            let user = p["identities"].as_array().and_then(|ids| ids.iter().find(|i| i["type"] == "user_id"));
            user_of.insert(
                p["id"].as_str().expect("id").into(),
                user.and_then(|u| u["value"].as_str()).unwrap_or("").into(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut out = HashMap::new();
    let mut cursor = String::new();
    loop {
        let (s, page) = app.get(&format!("/api/v1/rfm/customers?as_of={as_of}&limit=200{cursor}"), ADMIN).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for c in page["items"].as_array().expect("items") {
            out.insert(user_of[c["profile_id"].as_str().expect("id")].clone(), c.clone());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

async fn cdnow_rfm(app: &TestApp) {
    let started = std::time::Instant::now();
    upload_cdnow(app).await;
    eprintln!("imported and processed in {:?}", started.elapsed());
    let as_of: NaiveDate = "1998-07-01".parse().expect("day");
    let hand = by_hand();
    assert_eq!(hand.len(), 23_570);
    let recency: Vec<i64> = hand.values().map(|(d, ..)| (as_of - *d).num_days()).collect();
    let frequency: Vec<u64> = hand.values().map(|(_, n, _)| *n).collect();
    let monetary: Vec<i64> = hand.values().map(|(.., c)| *c).collect();
    let (rs, fs, ms) = (scores(&recency, false), scores(&frequency, true), scores(&monetary, true));
    let got = all_rfm(app, "1998-07-01").await;
    eprintln!("read back in {:?}", started.elapsed());
    assert_eq!(got.len(), 23_570);
    let mut groups: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (customer, (_, n, cents))) in hand.iter().enumerate() {
        let g = &got[customer];
        let (r, f, m) = (rs[&recency[i]], fs[n], ms[cents]);
        let money = format!("{}.{:02}", cents / 100, cents % 100);
        let want = (recency[i], *n, money.as_str(), r, f, m, group(r, f, m));
        let have = (
            g["recency_days"].as_i64().unwrap_or(-1),
            g["frequency"].as_u64().unwrap_or(0),
            g["monetary"].as_str().unwrap_or(""),
            g["r"].as_u64().unwrap_or(0) as u8,
            g["f"].as_u64().unwrap_or(0) as u8,
            g["m"].as_u64().unwrap_or(0) as u8,
            g["group"].as_str().unwrap_or(""),
        );
        assert_eq!(have, want, "customer {customer}");
        *groups.entry(want.6).or_default() += 1;
    }
    // customer 00002: two orders on 1997-01-12 (12.00 and 77.00), 535 days before 1998-07-01
    let two = &got["00002"];
    assert_eq!(
        (two["recency_days"].as_i64(), two["frequency"].as_u64(), two["monetary"].as_str()),
        (Some(535), Some(2), Some("89.00"))
    );
    // the summary: groups and the grid add up to every customer and every dollar
    let (_, s) = app.get("/api/v1/rfm?as_of=1998-07-01", ADMIN).await;
    assert_eq!((s["customers"].as_u64(), s["currency"].as_str()), (Some(23_570), Some("USD")), "{s}");
    for g in s["groups"].as_array().expect("groups") {
        assert_eq!(
            g["customers"].as_u64().unwrap_or(0) as usize,
            groups.get(g["group"].as_str().unwrap_or("")).copied().unwrap_or(0),
            "{g}"
        );
    }
    let cents = |v: &Value| {
        let (d, c) = v.as_str().unwrap_or("0.00").split_once('.').unwrap_or(("0", "0"));
        d.parse::<i64>().unwrap_or(0) * 100 + c.parse::<i64>().unwrap_or(0)
    };
    let grid = s["grid"].as_array().expect("grid");
    assert_eq!(grid.len(), 25);
    assert_eq!(grid.iter().map(|c| c["customers"].as_u64().unwrap_or(0)).sum::<u64>(), 23_570);
    assert_eq!(grid.iter().map(|c| cents(&c["revenue"])).sum::<i64>(), 250_031_563, "$2,500,315.63");
    // the profile shows its RFM (as of the shop's today: long after the panel, so every R is the same… but F and M are)
    let (_, p) = app.get("/api/v1/profiles?identity=user_id:00002", ADMIN).await;
    assert_eq!(
        (p["items"][0]["rfm"]["frequency"].as_u64(), p["items"][0]["rfm"]["monetary"].as_str()),
        (Some(2), Some("89.00")),
        "{p}"
    );
    // k-means on the same buyers (held to scikit-learn in crates/insight/tests/cdnow_kmeans.rs)
    let (s, c) = app.get("/api/v1/clusters?as_of=1998-07-01&k=4", ADMIN).await;
    assert_eq!((s, c["k"].as_u64(), c["customers"].as_u64()), (StatusCode::OK, Some(4), Some(23_570)), "{c}");
    let clusters = c["clusters"].as_array().expect("clusters");
    assert_eq!(clusters.iter().map(|x| x["customers"].as_u64().unwrap_or(0)).sum::<u64>(), 23_570);
    let mut names: Vec<&str> = clusters.iter().filter_map(|x| x["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["cooling", "core", "dormant", "growing"], "{c}");
    let inertia = c["inertia"].as_f64().expect("inertia");
    let (_, again) = app.get("/api/v1/clusters?as_of=1998-07-01&k=4", ADMIN).await;
    assert_eq!(again["inertia"].as_f64(), Some(inertia), "seeded: the same clusters");
    let (_, e) = app.get("/api/v1/clusters/elbow?as_of=1998-07-01&max_k=5", ADMIN).await;
    let inertias: Vec<f64> =
        e["items"].as_array().expect("items").iter().filter_map(|p| p["inertia"].as_f64()).collect();
    assert!(inertias.len() == 4 && inertias.windows(2).all(|w| w[1] < w[0]), "{e}");
    for bad in ["/api/v1/clusters?k=0", "/api/v1/clusters?k=13", "/api/v1/clusters/elbow?max_k=1"] {
        assert_eq!(app.get(bad, ADMIN).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (s, v) = app.get("/api/v1/rfm?as_of=1998-13-01", ADMIN).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")), "{v}");
    let (s, _) = app.get("/api/v1/rfm/customers?group=vip", ADMIN).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

both_backends!(cdnow_rfm);
