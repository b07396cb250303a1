//! Progress on a terminal (a bar with rate and ETA), or plain lines every
//! few seconds when stderr is not one (CI logs, pipes).

use super::Stats;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Progress {
    bar: Option<ProgressBar>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Progress {
    /// `read`: bytes of the file read so far, of `size`.
    pub fn start(size: u64, read: Arc<AtomicU64>, stats: Arc<Stats>, noun: &'static str) -> Progress {
        let started = Instant::now();
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(size);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {percent:>3}% {binary_bytes_per_sec} ETA {eta} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let b = bar.clone();
            let ticker = tokio::spawn(async move {
                loop {
                    b.set_position(read.load(Ordering::Relaxed));
                    let (lines, ok) = (stats.lines.load(Ordering::Relaxed), stats.accepted.load(Ordering::Relaxed));
                    let rate = lines as f64 / started.elapsed().as_secs_f64().max(1e-9);
                    b.set_message(format!(
                        "{lines} lines, {ok} {noun}, {} rejected, {rate:.0} lines/s",
                        stats.rejected.load(Ordering::Relaxed)
                    ));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
            return Progress { bar: Some(bar), ticker };
        }
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let done = read.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64();
                let eta = if done > 0 { (size.saturating_sub(done)) as f64 * secs / done as f64 } else { 0.0 };
                eprintln!(
                    "import: {:.0}% ({} lines, {} {noun}, {} rejected, {:.0} lines/s, ETA {eta:.0} s)",
                    done as f64 * 100.0 / size.max(1) as f64,
                    stats.lines.load(Ordering::Relaxed),
                    stats.accepted.load(Ordering::Relaxed),
                    stats.rejected.load(Ordering::Relaxed),
                    stats.lines.load(Ordering::Relaxed) as f64 / secs.max(1e-9),
                );
            }
        });
        Progress { bar: None, ticker }
    }

    pub fn println(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        self.ticker.abort();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
