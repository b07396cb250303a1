//! Runs the real `beacon` binary and talks to it over a socket with a tiny
//! blocking HTTP/1.1 client (no client library needed).

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const ADMIN: &str = "e2e-admin-key-0123456789";
pub const WRITE: &str = "e2e-write-key-0123456789";

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// Extra `BEACON__…` settings, kept across restarts.
    pub env: Vec<(String, String)>,
}

impl Server {
    pub fn start(data_dir: &Path, database_url: Option<&str>) -> Server {
        Server::start_with(data_dir, database_url, &[])
    }

    pub fn start_with(data_dir: &Path, database_url: Option<&str>, env: &[(String, String)]) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.with_extension("log"))
            .expect("server log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_beacon"));
        cmd.arg("serve").arg("--data-dir").arg(data_dir).arg("--listen").arg("127.0.0.1:0");
        if let Some(url) = database_url {
            cmd.arg("--database-url").arg(url);
        }
        let mut child = cmd
            .env("BEACON_ADMIN_KEY", ADMIN)
            .env("BEACON_WRITE_KEY", WRITE)
            .env("BEACON__LOG__LEVEL", "warn")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn beacon");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let addr = line
                    .strip_prefix("Beacon listening on http://")
                    .or_else(|| line.strip_prefix("Beacon worker up; health on http://"));
                if let Some(addr) = addr {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
            let _ = child.kill();
            let log = std::fs::read_to_string(data_dir.with_extension("log")).unwrap_or_default();
            panic!("beacon did not start:\n{log}")
        });
        Server {
            child,
            addr,
            data_dir: data_dir.to_path_buf(),
            database_url: database_url.map(str::to_string),
            env: env.to_vec(),
        }
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// The last `n` lines this server (and its earlier runs) logged.
    pub fn log_tail(&self, n: usize) -> String {
        let log = std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        self.child.wait().expect("wait")
    }

    pub fn restart(&mut self) {
        *self = Server::start_with(&self.data_dir.clone(), self.database_url.clone().as_deref(), &self.env.clone());
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let (s, body) = http(&self.addr, "GET", path, &[("authorization", &format!("Bearer {ADMIN}"))], b"");
        (s, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// A new write key of a server source (the shop's back end; the
    /// bootstrap `WRITE` is a client's), made through the admin API.
    pub fn server_key(&self) -> String {
        let auth = format!("Bearer {ADMIN}");
        let body = br#"{"name": "back end", "kind": "write", "source": "server"}"#;
        let (s, v) = http(
            &self.addr,
            "POST",
            "/api/v1/keys",
            &[("authorization", &auth), ("content-type", "application/json")],
            body,
        );
        let v: Value = serde_json::from_slice(&v).unwrap_or(Value::Null);
        assert_eq!(s, 201, "{v}");
        v["key"].as_str().expect("the new key").to_string()
    }

    pub fn post_events(&self, path: &str, body: &[u8]) -> (u16, Value) {
        self.post_events_as(WRITE, path, body)
    }

    pub fn post_events_as(&self, key: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let auth = format!("Basic {}", b64(&format!("{key}:")));
        let (s, body) =
            http(&self.addr, "POST", path, &[("authorization", &auth), ("content-type", "application/json")], body);
        (s, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Waits (bounded) until the processor has consumed the whole log.
    pub fn wait_processed(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (s, r) = self.get("/readyz");
            if s == 200 && r["processed"] == r["log_head"] {
                return;
            }
            assert!(Instant::now() < deadline, "processor did not catch up: {r}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn b64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One request on a fresh connection; returns (status, body). Status 0 if
/// the connection failed (e.g. the server was killed mid-request).
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let (status, _, body) = http_with_head(addr, method, path, headers, body);
    (status, body)
}

/// [`http`], with the answer's head (status line and headers) too.
pub fn http_with_head(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let failed = || (0, String::new(), Vec::new());
    let Ok(mut stream) = TcpStream::connect(addr) else { return failed() };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    if stream.write_all(req.as_bytes()).and_then(|_| stream.write_all(body)).is_err() {
        return failed();
    }
    let mut raw = Vec::new();
    if stream.read_to_end(&mut raw).is_err() && raw.is_empty() {
        return failed();
    }
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return failed() };
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, head, body)
}

/// A console login (`POST /api/v1/session`): (status, the `Set-Cookie`
/// header, the answer).
pub fn login(addr: &str, email: &str, password: &str) -> (u16, String, Value) {
    let body = serde_json::json!({"email": email, "password": password}).to_string();
    let (status, head, body) =
        http_with_head(addr, "POST", "/api/v1/session", &[("content-type", "application/json")], body.as_bytes());
    let cookie = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.trim()))
        .unwrap_or_default()
        .to_string();
    (status, cookie, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 || data.len() < pos + 2 + size {
            break;
        }
        out.extend_from_slice(&data[pos + 2..pos + 2 + size]);
        data = &data[(pos + 4 + size).min(data.len())..];
    }
    out
}

/// A fresh PostgreSQL schema, as a database URL, dropped with the guard.
pub struct PgSchema {
    pub url: String,
    pub base: String,
    pub schema: String,
}

impl PgSchema {
    pub fn new() -> PgSchema {
        let base = std::env::var("BEACON_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("e2e_{}", uuid::Uuid::new_v4().simple());
        psql(&base, &format!("CREATE SCHEMA {schema}"));
        let sep = if base.contains('?') { '&' } else { '?' };
        PgSchema { url: format!("{base}{sep}options=-c%20search_path%3D{schema}"), base, schema }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        psql(&self.base, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
    }
}

/// A stream of its own on the local NATS server for a cluster's event log
/// (`bus.*` settings as environment variables); deleted when dropped.
pub struct NatsStream {
    pub options: beacon_bus::nats::NatsOptions,
}

impl NatsStream {
    pub fn new(partitions: u32) -> NatsStream {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let url = std::env::var("BEACON_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        let options = beacon_bus::nats::NatsOptions {
            url,
            stream: format!("E2E_{id}"),
            subject_prefix: format!("e2e{id}.ev"),
            partitions,
        };
        NatsStream { options }
    }

    /// The settings that put a node's event log on this stream.
    pub fn env(&self) -> Vec<(String, String)> {
        let o = &self.options;
        vec![
            ("BEACON__BUS__NATS_URL".into(), o.url.clone()),
            ("BEACON__BUS__STREAM".into(), o.stream.clone()),
            ("BEACON__BUS__SUBJECT_PREFIX".into(), o.subject_prefix.clone()),
            ("BEACON__BUS__PARTITIONS".into(), o.partitions.to_string()),
        ]
    }
}

impl Drop for NatsStream {
    fn drop(&mut self) {
        let options = self.options.clone();
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async move {
            if let Ok(bus) = beacon_bus::nats::NatsBus::connect(&options).await {
                let _ = bus.destroy().await;
            }
        });
    }
}

fn psql(url: &str, sql: &str) {
    let ok = Command::new("psql").arg(url).arg("-qc").arg(sql).stdout(Stdio::null()).status();
    assert!(ok.is_ok_and(|s| s.success()), "psql {sql} failed: PostgreSQL is required");
}

/// Every message id in a user's timeline, and the profile's event_count.
pub fn stored_ids(server: &Server, user: &str) -> (Vec<String>, i64) {
    let (_, found) = server.get(&format!("/api/v1/profiles?identity=user_id:{user}"));
    let Some(p) = found["items"].get(0).cloned() else { return (Vec::new(), 0) };
    let id = p["id"].as_str().unwrap_or_default().to_string();
    let mut ids = Vec::new();
    let mut url = format!("/api/v1/profiles/{id}/events?limit=200");
    loop {
        let (s, page) = server.get(&url);
        assert_eq!(s, 200, "{page}");
        ids.extend(
            page["items"].as_array().into_iter().flatten().filter_map(|e| e["message_id"].as_str().map(String::from)),
        );
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/profiles/{id}/events?limit=200&cursor={c}"),
            None => break,
        }
    }
    (ids, p["event_count"].as_i64().unwrap_or(-1))
}

/// Every message id on the timelines of these users, checking that each
/// profile's event_count matches its timeline and that no event is there twice.
pub fn stored_once(server: &Server, users: impl IntoIterator<Item = String>) -> std::collections::BTreeSet<String> {
    let mut stored = std::collections::BTreeSet::new();
    let mut total = 0;
    for user in users {
        let (ids, count) = stored_ids(server, &user);
        assert_eq!(count as usize, ids.len(), "{user}: event_count matches the timeline");
        total += ids.len();
        stored.extend(ids);
    }
    assert_eq!(total, stored.len(), "no event stored twice");
    stored
}

/// Where scripts/test installs the npm packages the browser tests use.
pub fn node_modules() -> PathBuf {
    std::env::var_os("BEACON_TEST_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/js/node_modules")))
}

/// POSTs `body` with the admin key: the status and the JSON answer.
pub fn admin_post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {ADMIN}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let (s, b) = http(&server.addr, "POST", path, &headers, body.to_string().as_bytes());
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// Runs the browser driver `tests/browser/<script>` with Node against
/// `server` (its URL first, then `args`) and answers its report (the last
/// line it prints, as JSON), after checking it ran to the end.
pub fn drive_browser(server: &Server, script: &str, args: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser").join(script))
        .arg(format!("http://{}", server.addr))
        .args(args)
        .env("BEACON_TEST_NODE_MODULES", node_modules())
        .output()
        .expect("run node (scripts/test installs Node packages into target/js and Debian's chromium)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the driver's report");
    assert!(r.get("failure").is_none(), "the browser run failed: {r:#}");
    r
}
