//! The API client of `import` and `export`: a secret key, retries on
//! back-pressure, and errors that say what to do.

use anyhow::{Context, bail};
use serde_json::Value;
use std::time::Duration;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    /// A write key, sent as the HTTP Basic user (the Segment way).
    write: bool,
}

/// How a request ended, when the server answered.
pub enum Answer {
    Ok(Value),
    /// A 400 whose body lists rejected items (or, from
    /// [`Client::post_or_refusal`], any refusal: 400, 404, 409, 422).
    Rejected(Value),
}

impl Client {
    pub fn new(url: &str, key: &str) -> anyhow::Result<Client> {
        if key.is_empty() {
            bail!("no key: pass --key or set BEACON_KEY (a secret key of role marketer or admin)");
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("beacon/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Client { http, base: url.trim_end_matches('/').to_string(), key: key.to_string(), write: false })
    }

    /// A client that sends `key` as a write key, for the Segment API (`/v1/…`).
    pub fn with_write_key(&self, key: &str) -> Client {
        Client { key: key.to_string(), write: true, ..self.clone() }
    }

    /// GET with retries.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        match self.send(reqwest::Method::GET, path, None, None, false).await? {
            Answer::Ok(v) => Ok(v),
            Answer::Rejected(v) => bail!("GET {path}: {v}"),
        }
    }

    /// POST JSON, retrying while the server is busy or unreachable for a
    /// while (a re-sent batch is stored once: every item has its id).
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        self.send(reqwest::Method::POST, path, Some(body), None, false).await
    }

    /// [`Client::post`], answering a refusal (with its error) instead of failing.
    pub async fn post_or_refusal(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        self.send(reqwest::Method::POST, path, Some(body), None, true).await
    }

    /// [`Client::post`] with an `Idempotency-Key`.
    pub async fn post_keyed(&self, path: &str, body: &Value, key: &str) -> anyhow::Result<Answer> {
        self.send(reqwest::Method::POST, path, Some(body), Some(key), false).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
        refusals: bool,
    ) -> anyhow::Result<Answer> {
        let url = format!("{}{path}", self.base);
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=8 {
            let mut req = self.http.request(method.clone(), &url);
            req = if self.write { req.basic_auth(&self.key, Some("")) } else { req.bearer_auth(&self.key) };
            if let Some(b) = body {
                req = req.json(b);
            }
            if let Some(k) = idempotency_key {
                req = req.header("idempotency-key", k);
            }
            let wait = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = resp.text().await.unwrap_or_default();
                    let json: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    match status.as_u16() {
                        200..=299 => return Ok(Answer::Ok(json)),
                        400 if json["error"]["details"]["rejected"].is_array() => return Ok(Answer::Rejected(json)),
                        400 | 404 | 409 | 422 if refusals => return Ok(Answer::Rejected(json)),
                        401 | 403 if self.write => bail!("{url}: the write key was refused"),
                        401 | 403 => bail!(
                            "{url}: the key was refused ({}): use a secret key of role marketer or admin",
                            json["error"]["message"].as_str().unwrap_or("")
                        ),
                        429 | 502 | 503 | 504 => retry_after.unwrap_or(delay),
                        500..=599 if attempt < 3 => delay,
                        _ => bail!("{method} {url}: {status}: {json}"),
                    }
                }
                Err(e) if attempt < 8 && (e.is_connect() || e.is_timeout() || e.is_request()) => {
                    tracing::debug!("{url}: {e}; retrying");
                    delay
                }
                Err(e) => return Err(e).with_context(|| format!("{method} {url}")),
            };
            tokio::time::sleep(wait).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
        bail!("{method} {url}: the server stayed busy or unreachable; run the same command again to resume")
    }
}
