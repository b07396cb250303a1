//! The HTTP listener: no client can hang the server or keep it from
//! stopping. Headers must arrive within `server.header_timeout_secs` (also
//! the longest a kept-alive connection may sit idle), a body within
//! `server.body_timeout_secs` (else `408 request_timeout`), at most
//! `server.max_connections` are served at once (more wait in the accept
//! queue), and on shutdown the listener closes, requests in flight get
//! `server.shutdown_grace_secs` to finish, and whatever is left is dropped.

use crate::error::ApiError;
use crate::settings::ServerSettings;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use beacon_core::ErrorCode;
use http_body::{Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The listener's limits by default (the rest of [`ServerSettings`] is
/// filled in by `Settings::default`).
pub const DEFAULT_LIMITS: ServerSettings = ServerSettings {
    listen: String::new(),
    role: String::new(),
    header_timeout_secs: 10,
    body_timeout_secs: 30,
    shutdown_grace_secs: 10,
    max_connections: 10_000,
};

/// The listener's limits, from [`ServerSettings`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub shutdown_grace: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn of(s: &ServerSettings) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(s.header_timeout_secs),
            body_timeout: Duration::from_secs(s.body_timeout_secs),
            shutdown_grace: Duration::from_secs(s.shutdown_grace_secs),
            max_connections: s.max_connections as usize,
        }
    }

    /// What is wrong with the settings' limits.
    pub fn problems(s: &ServerSettings) -> Vec<String> {
        let mut p = Vec::new();
        for (name, v) in [
            ("header_timeout_secs", s.header_timeout_secs),
            ("body_timeout_secs", s.body_timeout_secs),
            ("shutdown_grace_secs", s.shutdown_grace_secs),
        ] {
            if !(1..=3600).contains(&v) {
                p.push(format!("server.{name} must be 1 to 3600"));
            }
        }
        if !(1..=1_000_000).contains(&s.max_connections) {
            p.push("server.max_connections must be 1 to 1000000".into());
        }
        p
    }
}

/// The client's address, as the listener saw it (set on every request by
/// [`serve`]; absent where the router is called directly, as in tests).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Serves `app` on `listener` until `shutdown` resolves; then stops
/// accepting and gives requests in flight `shutdown_grace` to finish.
/// Answers whether every connection closed in time.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> bool {
    let app = app.layer(axum::middleware::from_fn_with_state(limits.body_timeout, body_deadline));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            conn = listener.accept() => match conn {
                Ok(conn) => conn,
                Err(e) => {
                    // (out of file descriptors, say: wait rather than spin)
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let with_peer = app.clone();
        let service =
            TowerToHyperService::new(tower::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(PeerAddr(peer));
                tower::util::Oneshot::new(with_peer.clone(), req.map(axum::body::Body::new))
            }));
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight (at most {:?})", limits.shutdown_grace);
    match tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => true,
        Err(_) => {
            tracing::warn!("connections still open after {:?}: closed", limits.shutdown_grace);
            false
        }
    }
}

/// Longest request URI answered (longer: `414 uri_too_long`; past hyper's
/// own buffer, ~400 KB, hyper answers 414 without a body).
pub const MAX_URI_BYTES: usize = 8 << 10;

/// Refuses an over-long URI in the one error shape.
pub async fn uri_limit(req: Request, next: Next) -> Response {
    let len = req.uri().path().len() + req.uri().query().map_or(0, |q| q.len() + 1);
    if len > MAX_URI_BYTES {
        let message = format!("the URI is {len} bytes; at most {MAX_URI_BYTES}");
        return ApiError::new(ErrorCode::UriTooLong, message).into_response();
    }
    next.run(req).await
}

/// Gives each request's body a deadline; a body that does not arrive in
/// time is answered `408 request_timeout`, whatever the handler made of
/// the failed read.
async fn body_deadline(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    let late = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| {
        Body::new(Deadline { inner: body, sleep: Box::pin(tokio::time::sleep(timeout)), late: late.clone() })
    });
    let resp = next.run(req).await;
    if late.load(Ordering::Relaxed) {
        let message = format!("the request body did not arrive within {} s", timeout.as_secs());
        let mut resp = ApiError::new(ErrorCode::RequestTimeout, message).into_response();
        resp.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
        return resp;
    }
    resp
}

/// A body that fails once its deadline passes.
struct Deadline {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    late: Arc<AtomicBool>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.late.store(true, Ordering::Relaxed);
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body did not arrive in time");
            return Poll::Ready(Some(Err(axum::Error::new(e))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
