//! `beacon bench --only incremental`: the cost of keeping saved segments'
//! members in real time.
//!
//! First the pipeline issue's own end-to-end workloads (`hot`: 50 shoppers
//! coming back; `wide`: a new shopper every two events), each on a fresh
//! embedded store without saved segments and on one with 500 a marketer
//! would keep (`beacon_segment::random::marketing`), timed from the first
//! request until every event is processed, beside the parse-only baseline.
//! Then a shop (the audience bench's events: every shopper new, ten events
//! each over 180 days) sent to a store without segments, with 500
//! marketing ones and with 500 random ones (the agreement tests'
//! generator: every corner of the language); then, on the last two, the
//! segment stage alone for one event of one profile in a processor
//! transaction (rolled back), many times.

use super::audience::{Server, event, start_server};
use super::scale::send_all;
use super::wait_processed;
use beacon_segment::random::{self, Rng, Vocabulary};
use beacon_server::processor::segments::{self, SegmentIndex, Touch};
use beacon_store::Store as _;
use serde_json::{Value, json};
use std::time::Instant;

fn vocabulary() -> Vocabulary {
    let mut v = Vocabulary::example();
    v.events = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"].map(String::from).to_vec();
    v.traits = vec![
        ("city".into(), ["上海", "北京", "杭州"].map(|c| json!(c)).to_vec()),
        ("tier".into(), ["gold", "silver"].map(|c| json!(c)).to_vec()),
    ];
    v.properties = vec![("price".into(), vec![json!(59), json!(100)])];
    v
}

/// Sends the shop and answers events processed per second, end to end.
async fn ingest(server: &Server, profiles: usize, events: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let sent = send_all(server.addr, events, profiles, 32, event).await;
    wait_processed(server.store.as_ref()).await?;
    Ok(sent as f64 / started.elapsed().as_secs_f64())
}

/// The segments saved: `marketing` (shapes a shop keeps) or `random`
/// (the agreement tests' generator: every corner of the language, many of
/// them flipping with nearly every event).
fn saved_segment(mix: &str, rng: &mut Rng, v: &Vocabulary) -> beacon_segment::Condition {
    if mix == "random" { random::condition(rng, v, 2) } else { random::marketing(rng, v) }
}

/// Saves `saved` segments of `mix` on `server`.
async fn save(server: &Server, mix: &str, saved: usize) -> anyhow::Result<()> {
    let v = vocabulary();
    let mut rng = Rng::new(500);
    for i in 0..saved {
        let c = saved_segment(mix, &mut rng, &v);
        let body = json!({"id": format!("bench-{i}"), "name": format!("bench {i}"), "text": c.to_string()});
        let answer: Value = server.call("POST", "/api/v1/segments", Some(&body)).await?;
        anyhow::ensure!(answer.get("error").is_none(), "segment {i} ({c}): {answer}");
    }
    Ok(())
}

/// Hot and wide end to end, without and with `saved` marketing segments.
async fn end_to_end(saved: usize, seconds: u64, connections: usize) -> anyhow::Result<()> {
    use super::e2e::{self, hot_event, wide_event};
    let base = super::baseline().await?;
    println!(
        "\n| end to end ({seconds} s of sending, {connections} connections) | parse-only baseline (events/s) | no segments (events/s) | {saved} marketing segments (events/s) | ratio | memberships |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, make) in [("hot", hot_event as fn(&str, usize) -> Value), ("wide", wide_event)] {
        let mut rates = Vec::new();
        let mut baseline = 0.0;
        let mut held = 0;
        for n in [0, saved] {
            let dir = tempfile::tempdir()?;
            let server = start_server(dir.path(), true, None).await?;
            save(&server, "marketing", n).await?;
            let d = std::time::Duration::from_secs(seconds);
            let r = e2e::measure(base, (server.addr, server.store.as_ref()), connections, d, name, make).await?;
            baseline += r.baseline.per_second() * super::BATCH as f64 / 2.0;
            rates.push(r.events_per_second());
            held = server.store.segments().all_segments().await?.iter().map(|s| s.members).sum::<i64>();
            server.stop().await?;
        }
        println!(
            "| {name} | {baseline:.0} | {:.0} | {:.0} | **{:.2}** | {held} |",
            rates[0],
            rates[1],
            rates[1] / rates[0].max(1e-9)
        );
    }
    Ok(())
}

pub async fn run(
    profiles: usize,
    events: usize,
    saved: usize,
    samples: usize,
    (seconds, connections): (u64, usize),
) -> anyhow::Result<()> {
    super::audience::start();
    if std::env::var_os("BEACON_BENCH_SHOP_ONLY").is_none() {
        end_to_end(saved, seconds, connections).await?;
    }
    if std::env::var_os("BEACON_BENCH_E2E_ONLY").is_some() {
        return Ok(());
    }
    println!("Incremental: {profiles} profiles, {events} events, without and with {saved} saved segments…");
    let plain_dir = tempfile::tempdir()?;
    let plain = start_server(plain_dir.path(), true, None).await?;
    let without = ingest(&plain, profiles, events).await?;
    plain.stop().await?;
    drop(plain_dir);
    println!(
        "\n| ingest → processed, end to end | events/s | ratio | memberships at the end | stage for one event p50 / p99 / max |"
    );
    println!("|---|---|---|---|---|\n| no saved segments | {without:.0} | 1 | | |");
    for mix in ["marketing", "random"] {
        let dir = tempfile::tempdir()?;
        let server = start_server(dir.path(), true, None).await?;
        let (with, held, stage) = with_segments(&server, mix, profiles, events, saved, samples).await?;
        println!("| {saved} {mix} segments | {with:.0} | {:.2} | {held} | {stage} |", with / without);
        server.stop().await?;
    }
    Ok(())
}

/// Saves `saved` segments of `mix`, sends the shop; answers the rate, the
/// memberships held at the end, and the stage alone for one profile's new
/// event (in a processor transaction, rolled back), `samples` times.
async fn with_segments(
    server: &Server,
    mix: &str,
    profiles: usize,
    events: usize,
    saved: usize,
    samples: usize,
) -> anyhow::Result<(f64, i64, String)> {
    save(server, mix, saved).await?;
    let with = ingest(server, profiles, events).await?;
    let store = server.store.clone();
    let held: i64 = store.segments().all_segments().await?.iter().map(|s| s.members).sum();

    let index = SegmentIndex::current(store.as_ref(), None).await?;
    let live = store.segment_facts().live_profiles().await?;
    let names = vocabulary().events;
    let mut times = Vec::with_capacity(samples);
    let mut rng = Rng::new(7);
    for i in 0..samples {
        let profile = rng.pick(&live).parse()?;
        // an event happening now: in every window
        let name = rng.pick(&names).clone();
        let fact = beacon_segment::EventFact { name, at: chrono::Utc::now(), properties: Default::default() };
        let touch = Touch { events: vec![fact], ..Touch::default() };
        let mut tx = store.begin_processing(beacon_server::processor::PROCESSOR).await?;
        tx.offset().await?;
        let started = Instant::now();
        segments::decide(tx.as_mut(), &index, [(profile, touch)].into(), chrono::Utc::now(), &format!("bench-{i}"))
            .await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(tx); // rolled back
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((p / 100.0) * (times.len() - 1) as f64).round() as usize];
    Ok((with, held, format!("{:.3} / {:.3} / {:.3} ms", pct(50.0), pct(99.0), pct(100.0))))
}
