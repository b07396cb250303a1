//! `beacon import KIND FILE`: streams a CSV or JSONL file into a running
//! Beacon through its API, so it works against any deployment. Constant
//! memory (rows are read, checked and sent in batches), idempotent (every
//! item has an id, from the file or derived from the file and line), bad
//! lines reported with line, column and reason while the good ones go in.

pub mod client;
mod progress;

pub use beacon_server::import::{Format, Kind, MAX_BATCH};

use anyhow::{Context, bail};
use beacon_server::import::{self as reading, BadLine, Item, Mapping, Msg, source};
use client::{Answer, Client};
use serde_json::{Value, json};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::mpsc;

/// Where a running Beacon is, and the key to use.
#[derive(clap::Args, Clone)]
pub struct Remote {
    /// Beacon's base URL.
    #[arg(long, env = "BEACON_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A secret key of role marketer or admin (reading needs any role).
    #[arg(long, env = "BEACON_KEY", hide_env_values = true, default_value = "")]
    pub key: String,
}

#[derive(clap::Args)]
pub struct ImportOptions {
    /// orders, customers, products or events.
    #[arg(value_parser = parse_kind)]
    pub kind: Kind,
    /// A CSV file (with a header line) or JSONL file (one JSON object per line).
    pub file: PathBuf,
    /// csv or jsonl (default: from the file name).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// A named column mapping: cdnow (orders).
    #[arg(long)]
    pub preset: Option<String>,
    /// SOURCE_COLUMN=FIELD[:DATE_FORMAT], e.g. --map date=placed_at:%Y%m%d (repeatable).
    #[arg(long = "map")]
    pub maps: Vec<String>,
    /// Currency of orders whose lines name none (ISO-4217).
    #[arg(long)]
    pub currency: Option<String>,
    #[command(flatten)]
    pub remote: Remote,
    /// Items per request (at most 1000).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Return once the data is stored, without waiting for it to be processed.
    #[arg(long)]
    pub no_wait: bool,
    /// Write every rejected line (line, column, reason; tab-separated) here.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| format!("{s:?}: import orders, customers, products or events"))
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("{s:?}: csv or jsonl"))
}

/// Requests in flight at once.
const IN_FLIGHT: usize = 4;
/// Bad lines printed (all of them go to `--rejects`).
const SHOWN: u64 = 100;

/// [`reading::file_key`] of the file at `path`.
fn file_key(path: &std::path::Path) -> anyhow::Result<String> {
    let mut head = Vec::with_capacity(reading::KEY_BYTES);
    std::fs::File::open(path)?.take(reading::KEY_BYTES as u64).read_to_end(&mut head)?;
    Ok(reading::file_key(&head))
}

pub async fn run(opts: ImportOptions) -> anyhow::Result<ExitCode> {
    let format = opts
        .format
        .or_else(|| Format::of_path(&opts.file))
        .context("cannot tell the format from the file name: pass --format csv or --format jsonl")?;
    let mut mapping = match &opts.preset {
        Some(p) => Mapping::preset(opts.kind, p).map_err(anyhow::Error::msg)?,
        None => Mapping::default(),
    };
    for m in &opts.maps {
        mapping.add(opts.kind, m).map_err(anyhow::Error::msg)?;
    }
    if let Some(c) = &opts.currency {
        if beacon_core::Currency::parse(c).is_none() {
            bail!("--currency {c:?} is not an ISO-4217 code such as CNY");
        }
        mapping.currency = Some(c.to_uppercase());
    }
    let client = Client::new(&opts.remote.url, &opts.remote.key)?;
    let size = std::fs::metadata(&opts.file).with_context(|| format!("{}", opts.file.display()))?.len();
    let key = file_key(&opts.file)?;
    let file = std::fs::File::open(&opts.file).with_context(|| format!("{}", opts.file.display()))?;
    let counted = source::Counted::new(file);
    let read = counted.read.clone();
    let rows = source::rows(counted, format).map_err(|e| anyhow::anyhow!("{}: {e}", opts.file.display()))?;

    let (tx, mut rx) = mpsc::channel::<Msg>(IN_FLIGHT * 2);
    let batch_size = opts.batch.clamp(1, MAX_BATCH);
    let kind = opts.kind;
    let reader = std::thread::spawn(move || {
        reading::read_file(rows, kind, &mapping, &key, batch_size, |msg| tx.blocking_send(msg).is_ok())
    });

    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let progress = progress::Progress::start(size, read, stats.clone(), kind.noun());
    let mut rejects = match &opts.rejects {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p).with_context(|| format!("{}", p.display()))?)),
        None => None,
    };
    let mut report = |bad: &BadLine| {
        let n = stats.rejected.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= SHOWN {
            progress.println(format!("  {bad}"));
        } else if n == SHOWN + 1 {
            progress.println("  … (more bad lines: see the summary, or pass --rejects FILE)".into());
        }
        if let Some(w) = rejects.as_mut() {
            use std::io::Write;
            let _ = writeln!(w, "{}\t{}\t{}", bad.line, bad.column.as_deref().unwrap_or(""), bad.reason);
        }
    };
    let mut flying: tokio::task::JoinSet<anyhow::Result<Vec<BadLine>>> = tokio::task::JoinSet::new();
    let mut failure = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Bad(bad) => report(&bad),
            Msg::Note(note) => progress.println(format!("  {note}; map with --map COLUMN=FIELD")),
            Msg::Batch(items) => {
                while flying.len() >= IN_FLIGHT {
                    match flying.join_next().await {
                        Some(Ok(Ok(bads))) => bads.iter().for_each(&mut report),
                        Some(Ok(Err(e))) => failure = Some(e),
                        Some(Err(e)) => failure = Some(anyhow::anyhow!("{e}")),
                        None => {}
                    }
                }
                if failure.is_some() {
                    break;
                }
                let (client, stats) = (client.clone(), stats.clone());
                flying.spawn(async move { send(&client, kind, items, &stats).await });
            }
        }
    }
    drop(rx);
    while let Some(done) = flying.join_next().await {
        match done {
            Ok(Ok(bads)) => bads.iter().for_each(&mut report),
            Ok(Err(e)) => failure = Some(e),
            Err(e) => failure = Some(anyhow::anyhow!("{e}")),
        }
    }
    let lines = reader.join().map_err(|_| anyhow::anyhow!("the file reader stopped"))?;
    if let Some(w) = rejects.as_mut() {
        use std::io::Write;
        w.flush()?;
    }
    progress.finish();
    if let Some(e) = failure {
        return Err(e.context("the import stopped; run the same command again to resume (nothing is stored twice)"));
    }
    let sent_in = started.elapsed();
    let mut processed_in = None;
    if !opts.no_wait {
        let t = Instant::now();
        wait_processed(&client).await?;
        processed_in = Some(t.elapsed());
    }
    let (accepted, rejected) = (stats.accepted.load(Ordering::Relaxed), stats.rejected.load(Ordering::Relaxed));
    eprintln!(
        "{}: {lines} lines read; {accepted} {} accepted, {rejected} lines rejected; sent in {:.1} s ({:.0} lines/s){}",
        opts.file.display(),
        kind.noun(),
        sent_in.as_secs_f64(),
        lines as f64 / sent_in.as_secs_f64().max(1e-9),
        processed_in.map(|d| format!(", processed {:.1} s later", d.as_secs_f64())).unwrap_or_default(),
    );
    Ok(if rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

#[derive(Default)]
pub struct Stats {
    pub lines: AtomicU64,
    pub accepted: AtomicU64,
    pub rejected: AtomicU64,
}

/// Sends one batch; returns the lines the server refused.
async fn send(client: &Client, kind: Kind, items: Vec<Item>, stats: &Stats) -> anyhow::Result<Vec<BadLine>> {
    let bodies: Vec<Value> = items.iter().map(|i| i.body.clone()).collect();
    let (path, body) = match kind {
        Kind::Orders => ("/api/v1/orders", json!({ "orders": bodies })),
        Kind::Customers | Kind::Events => ("/api/v1/events", json!({ "batch": bodies })),
        Kind::Products => ("/api/v1/products/bulk", json!({ "products": bodies })),
    };
    let rejected = match client.post(path, &body).await? {
        Answer::Ok(v) => v["rejected"].as_array().cloned().unwrap_or_default(),
        Answer::Rejected(v) => v["error"]["details"]["rejected"].as_array().cloned().unwrap_or_default(),
    };
    stats.lines.fetch_add(items.iter().map(|i| i.lines.len() as u64).sum(), Ordering::Relaxed);
    stats.accepted.fetch_add((items.len() - rejected.len().min(items.len())) as u64, Ordering::Relaxed);
    Ok(reading::refused_lines(&items, &rejected))
}

/// Waits until the processor has handled everything accepted so far.
pub async fn wait_processed(client: &Client) -> anyhow::Result<()> {
    let head = client.get("/api/v1/processing").await?["log_head"].as_i64().unwrap_or(0);
    loop {
        let now = client.get("/api/v1/processing").await?;
        if now["processed"].as_i64().unwrap_or(0) >= head {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
