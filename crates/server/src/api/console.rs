//! The marketer console: static files compiled into the binary and served
//! at `/` (the page) and `/console/…` (its scripts, styles and the
//! vendored chart library). No build step: plain ES modules that talk to
//! the public JSON API like any other client (ARCHITECTURE.md, "The
//! console"). Every answer carries a Content-Security-Policy that allows
//! scripts from this server only.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use crate::state::AppState;

macro_rules! assets {
    ($($path:literal => $mime:literal),* $(,)?) => {
        &[$(($path, $mime, include_bytes!(concat!("../../console/", $path)) as &[u8]),)*]
    };
}

/// (path under `console/`, content type, bytes).
pub const ASSETS: &[(&str, &str, &[u8])] = assets!(
    "index.html" => "text/html; charset=utf-8",
    "styles.css" => "text/css; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "api.js" => "text/javascript; charset=utf-8",
    "dom.js" => "text/javascript; charset=utf-8",
    "i18n.js" => "text/javascript; charset=utf-8",
    "format.js" => "text/javascript; charset=utf-8",
    "screens/login.js" => "text/javascript; charset=utf-8",
    "screens/dashboard.js" => "text/javascript; charset=utf-8",
    "screens/account.js" => "text/javascript; charset=utf-8",
    "screens/customers.js" => "text/javascript; charset=utf-8",
    "screens/customer.js" => "text/javascript; charset=utf-8",
    "screens/promotions.js" => "text/javascript; charset=utf-8",
    "screens/simulator.js" => "text/javascript; charset=utf-8",
    "screens/admin.js" => "text/javascript; charset=utf-8",
    "screens/orders.js" => "text/javascript; charset=utf-8",
    "screens/products.js" => "text/javascript; charset=utf-8",
    "screens/promotion_form.js" => "text/javascript; charset=utf-8",
    "screens/imports.js" => "text/javascript; charset=utf-8",
    "screens/promotion_extras.js" => "text/javascript; charset=utf-8",
    "screens/loyalty.js" => "text/javascript; charset=utf-8",
    "screens/segments.js" => "text/javascript; charset=utf-8",
    "screens/insights.js" => "text/javascript; charset=utf-8",
    "screens/tags.js" => "text/javascript; charset=utf-8",
    "widgets.js" => "text/javascript; charset=utf-8",
    "vendor/echarts.min.js" => "text/javascript; charset=utf-8",
);

/// Scripts and styles from here only; no frames, no plugins.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Each asset's ETag (a hash of its bytes), computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS.iter().map(|(_, _, bytes)| format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..12]))).collect()
});

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(|headers: HeaderMap| async move { serve("index.html", &headers) })).route(
        "/console/{*path}",
        get(|Path(path): Path<String>, headers: HeaderMap| async move { serve(&path, &headers) }),
    )
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|(p, _, _)| *p == path) else {
        return crate::error::ApiError::new(beacon_core::ErrorCode::RouteNotFound, "no such console file")
            .into_response();
    };
    let (_, mime, bytes) = ASSETS[i];
    let etag = &ETAGS[i];
    let fresh = headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut resp = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { bytes.into_response() };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    // always revalidated (cheap: 304), so a new binary's files are used at once
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}
