//! `beacon export {profiles,orders,events}`: pages through a running
//! Beacon's API and writes CSV or JSONL, in constant memory, with progress.

use crate::import::client::Client;
use crate::import::{Format, Remote};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum What {
    Profiles,
    Orders,
    Events,
}

fn parse_what(s: &str) -> Result<What, String> {
    match s {
        "profiles" => Ok(What::Profiles),
        "orders" => Ok(What::Orders),
        "events" => Ok(What::Events),
        _ => Err(format!("{s:?}: export profiles, orders or events")),
    }
}

#[derive(clap::Args)]
pub struct ExportOptions {
    /// profiles, orders or events.
    #[arg(value_parser = parse_what)]
    pub what: What,
    /// csv or jsonl (default: from --output's name, else jsonl).
    #[arg(long, value_parser = |s: &str| Format::parse(s).ok_or_else(|| format!("{s:?}: csv or jsonl")))]
    pub format: Option<Format>,
    /// The file to write (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Profiles: the day their RFM columns are figured as of (YYYY-MM-DD; today by default).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    #[command(flatten)]
    pub remote: Remote,
}

/// CSV columns of each kind: (header, JSON pointer into an API item).
fn columns(what: What) -> &'static [(&'static str, &'static str)] {
    match what {
        What::Profiles => &[
            ("id", "/id"),
            ("first_seen", "/first_seen"),
            ("last_seen", "/last_seen"),
            ("event_count", "/event_count"),
            ("order_count", "/order_count"),
            ("total_spend", "/total_spend/amount"),
            ("currency", "/total_spend/currency"),
            ("first_order_at", "/first_order_at"),
            ("last_order_at", "/last_order_at"),
            ("identities", "/identities"),
            ("traits", "/traits"),
            ("rfm_recency_days", "/rfm/recency_days"),
            ("rfm_frequency", "/rfm/frequency"),
            ("rfm_monetary", "/rfm/monetary"),
            ("rfm_r", "/rfm/r"),
            ("rfm_f", "/rfm/f"),
            ("rfm_m", "/rfm/m"),
            ("rfm_group", "/rfm/group"),
        ],
        What::Orders => &[
            ("order_id", "/order_id"),
            ("profile_id", "/profile_id"),
            ("status", "/status"),
            ("placed_at", "/placed_at"),
            ("currency", "/currency"),
            ("total", "/total"),
            ("discount", "/discount"),
            ("refunded", "/refunded"),
            ("net", "/net"),
            ("coupon", "/coupon"),
            ("lines", "/lines"),
        ],
        What::Events => &[
            ("seq", "/seq"),
            ("message_id", "/message_id"),
            ("type", "/type"),
            ("name", "/name"),
            ("product", "/product"),
            ("profile_id", "/profile_id"),
            ("timestamp", "/timestamp"),
            ("received_at", "/received_at"),
            ("message", "/message"),
        ],
    }
}

/// A cell: text as is, other JSON as its text, null as empty.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub async fn run(opts: ExportOptions) -> anyhow::Result<()> {
    let client = Client::new(&opts.remote.url, &opts.remote.key)?;
    let format = opts
        .format
        .or_else(|| opts.output.as_deref().and_then(Format::of_path))
        .unwrap_or(super::import::Format::Jsonl);
    let out: Box<dyn Write> = match &opts.output {
        Some(p) => Box::new(
            crate::backup::private(std::fs::File::options().write(true).create(true).truncate(true))
                .open(p)
                .with_context(|| format!("{}", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let out = std::io::BufWriter::new(out);
    let overview = client.get("/api/v1/overview").await?;
    let total = match opts.what {
        What::Profiles => overview["profiles"].as_u64(),
        What::Orders => None, // the overview counts orders not cancelled; the export has them all
        What::Events => overview["events"].as_u64(),
    };
    let bar = match (std::io::stderr().is_terminal(), total) {
        (true, Some(n)) => ProgressBar::new(n),
        (true, None) => ProgressBar::new_spinner(),
        (false, _) => ProgressBar::hidden(),
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    enum Sink<W: Write> {
        Csv(Box<csv::Writer<W>>),
        Jsonl(W),
    }
    let mut sink = match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(columns(opts.what).iter().map(|(h, _)| *h))?;
            Sink::Csv(Box::new(w))
        }
        Format::Jsonl => Sink::Jsonl(out),
    };
    let (started, mut written, mut last_report) = (Instant::now(), 0u64, Instant::now());
    let mut cursor: Option<String> = None;
    loop {
        let as_of = opts.as_of.map(|d| format!("&rfm_as_of={d}")).unwrap_or_default();
        let path = match (opts.what, &cursor) {
            (What::Profiles, None) => format!("/api/v1/profiles?limit=200{as_of}"),
            (What::Profiles, Some(c)) => format!("/api/v1/profiles?limit=200&cursor={c}{as_of}"),
            (What::Orders, None) => "/api/v1/orders?limit=200".to_string(),
            (What::Orders, Some(c)) => format!("/api/v1/orders?limit=200&cursor={c}"),
            (What::Events, c) => format!("/api/v1/events?limit=1000&after={}", c.as_deref().unwrap_or("0")),
        };
        let page = client.get(&path).await?;
        for item in page["items"].as_array().into_iter().flatten() {
            match &mut sink {
                Sink::Csv(w) => w.write_record(columns(opts.what).iter().map(|(_, ptr)| cell(item.pointer(ptr))))?,
                Sink::Jsonl(w) => writeln!(w, "{item}")?,
            }
            written += 1;
        }
        bar.set_position(written);
        if bar.is_hidden() && last_report.elapsed().as_secs() >= 2 {
            eprintln!("export: {written} written");
            last_report = Instant::now();
        }
        cursor = match opts.what {
            What::Events => page["next_after"].as_i64().map(|s| s.to_string()),
            _ => page["next_cursor"].as_str().map(str::to_string),
        };
        if cursor.is_none() {
            break;
        }
    }
    match &mut sink {
        Sink::Csv(w) => w.flush()?,
        Sink::Jsonl(w) => w.flush()?,
    }
    bar.finish_and_clear();
    eprintln!("exported {written} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
