//! A small closed-loop HTTP/1.1 load generator: N keep-alive connections, each
//! sending the next prepared request as soon as the previous one is answered.
//! Runs in the same process as the servers it measures, so every target gets
//! the same generator on the same cores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one run measured.
#[derive(Debug, Default, Clone)]
pub struct LoadResult {
    pub ok: u64,
    pub failed: u64,
    /// Of `ok`, answered 201 Created.
    pub created: u64,
    /// Failed requests by status (0: the connection failed).
    pub failures: std::collections::BTreeMap<u16, u64>,
    /// The body of the first failed answer, to say why.
    pub first_failure: Option<String>,
    pub elapsed: Duration,
    /// Per-request latency in microseconds (successful requests).
    pub latencies_us: Vec<u32>,
}

impl LoadResult {
    /// Adds another run's counts and latencies (and time) to these.
    pub fn add(&mut self, r: LoadResult) {
        self.ok += r.ok;
        self.failed += r.failed;
        self.created += r.created;
        self.first_failure = self.first_failure.take().or(r.first_failure);
        self.elapsed += r.elapsed;
        self.latencies_us.extend(r.latencies_us);
        for (k, n) in r.failures {
            *self.failures.entry(k).or_default() += n;
        }
    }

    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        let idx = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
        f64::from(v[idx.min(v.len() - 1)]) / 1000.0
    }
}

/// Builds a complete HTTP/1.1 POST request.
pub fn post_request(path: &str, auth: &str, body: &[u8]) -> Vec<u8> {
    post_request_with(path, auth, "", body)
}

/// [`post_request`] with more header lines (each ending in `\r\n`).
pub fn post_request_with(path: &str, auth: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: bench\r\nauthorization: {auth}\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap_or("");
            let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok()).flatten()
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(status);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Runs `connections` closed loops for `duration`, cycling through `requests`.
pub async fn run(addr: SocketAddr, connections: usize, duration: Duration, requests: Arc<Vec<Vec<u8>>>) -> LoadResult {
    run_with(addr, connections, duration, requests, true).await
}

/// [`run`] that sends each request at most once: it stops early when the
/// list is used up (every event new, as in the end-to-end scenarios).
pub async fn run_each(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    requests: Arc<Vec<Vec<u8>>>,
) -> LoadResult {
    run_with(addr, connections, duration, requests, false).await
}

async fn run_with(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    requests: Arc<Vec<Vec<u8>>>,
    wrap: bool,
) -> LoadResult {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (requests, next) = (requests.clone(), next.clone());
            tokio::spawn(async move {
                let mut r = LoadResult::default();
                let Ok(mut stream) = TcpStream::connect(addr).await else {
                    r.failed += 1;
                    return r;
                };
                let _ = stream.set_nodelay(true);
                let mut buf = Vec::with_capacity(16 * 1024);
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if !wrap && i >= requests.len() {
                        break;
                    }
                    let i = i % requests.len();
                    let t = Instant::now();
                    if stream.write_all(&requests[i]).await.is_err() {
                        r.failed += 1;
                        break;
                    }
                    match read_response(&mut stream, &mut buf).await {
                        Ok(status @ 200..=299) => {
                            r.ok += 1;
                            r.created += u64::from(status == 201);
                            r.latencies_us.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                        }
                        Ok(status) => {
                            r.failed += 1;
                            *r.failures.entry(status).or_default() += 1;
                            if r.first_failure.is_none() {
                                let start = buf.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |p| p + 4);
                                r.first_failure =
                                    Some(String::from_utf8_lossy(&buf[start..]).chars().take(300).collect());
                            }
                        }
                        Err(_) => {
                            r.failed += 1;
                            *r.failures.entry(0).or_default() += 1;
                            break;
                        }
                    }
                }
                r
            })
        })
        .collect();
    let mut total = LoadResult::default();
    for t in tasks {
        if let Ok(r) = t.await {
            total.ok += r.ok;
            total.failed += r.failed;
            total.created += r.created;
            total.first_failure = total.first_failure.or(r.first_failure);
            for (k, n) in r.failures {
                *total.failures.entry(k).or_default() += n;
            }
            total.latencies_us.extend(r.latencies_us);
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// One request on a fresh connection; the response body if the status is 200.
pub async fn send_one(addr: SocketAddr, request: &[u8]) -> Option<String> {
    send_any(addr, request).await.filter(|(status, _)| *status == 200).map(|(_, body)| body)
}

/// One request on a connection of its own: the status and the body, whatever the status.
pub async fn send_any(addr: SocketAddr, request: &[u8]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    stream.write_all(request).await.ok()?;
    let mut buf = Vec::new();
    let status = read_response(&mut stream, &mut buf).await.ok()?;
    let start = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    Some((status, String::from_utf8_lossy(&buf[start..]).into_owned()))
}
