//! The admin API (`/api/v1`), system routes and the router.

pub mod audit;
pub mod carts;
pub mod console;
pub mod coupons;
mod csv_out;
pub mod extract;
pub mod imports;
pub mod ingest;
pub mod keys;
pub mod loyalty;
pub mod openapi;
mod openapi_answers;
mod openapi_errors;
mod openapi_requests;
mod openapi_routes;
mod openapi_schemas;
pub mod orders;
pub mod privacy;
pub mod products;
pub mod profiles;
pub mod promotions;
pub mod rfm;
pub mod segments;
pub mod system;
pub mod tags;
pub mod teams;
pub mod users;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use beacon_core::ErrorCode;
use std::time::Instant;

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ingest::routes())
        .merge(profiles::routes())
        .merge(privacy::routes())
        .merge(orders::routes())
        .merge(products::routes())
        .merge(promotions::routes())
        .merge(carts::routes())
        .merge(coupons::routes())
        .merge(teams::routes())
        .merge(users::routes())
        .merge(imports::routes())
        .merge(segments::routes())
        .merge(tags::routes())
        .merge(rfm::routes())
        .merge(loyalty::routes())
        .merge(keys::routes())
        .merge(audit::routes())
        .merge(system::routes())
        .merge(console::routes())
        .fallback(|| async { ApiError::new(ErrorCode::RouteNotFound, "no route matches this path") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(ErrorCode::MethodNotAllowed, "this route does not accept this method")
        })
        .layer(middleware::from_fn(ingest::browser::cors))
        .layer(middleware::from_fn(crate::http::uri_limit))
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

/// An edge node's surface: ingest, cart pricing for anonymous shoppers,
/// and the system routes. Nothing that reads or changes a profile.
pub fn edge_router(state: AppState) -> Router {
    Router::new()
        .merge(ingest::routes())
        .merge(carts::routes())
        .merge(system::routes())
        .fallback(|| async {
            ApiError::new(ErrorCode::RouteNotFound, "an edge node serves ingest and cart pricing only")
        })
        .layer(middleware::from_fn(ingest::browser::cors))
        .layer(middleware::from_fn(crate::http::uri_limit))
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

/// A worker's surface: health, readiness and metrics.
pub fn system_router(state: AppState) -> Router {
    Router::new()
        .merge(system::routes())
        .fallback(|| async {
            ApiError::new(ErrorCode::RouteNotFound, "a worker serves /healthz, /readyz and /metrics only")
        })
        .layer(middleware::from_fn(crate::http::uri_limit))
        .layer(middleware::from_fn(observe))
        .with_state(state)
}

/// Request counts and latency per route.
async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route =
        req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!("beacon_http_request_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("beacon_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    resp
}
