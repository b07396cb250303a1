//! The HTTP side's state: the app (use cases and their context) behind the
//! gate (key lookups, rate limits), metrics and readiness. Handlers reach
//! the app's fields through `Deref` (`state.store`, `state.now()`); workers
//! hold an [`App`] alone.

use crate::app::App;
use crate::auth::Gatekeeper;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub app: App,
    pub gate: Gatekeeper,
    pub metrics: PrometheusHandle,
    pub ready: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::ops::Deref for Inner {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    pub fn new(app: App, gate: Gatekeeper, metrics: PrometheusHandle) -> Self {
        AppState(Arc::new(Inner { app, gate, metrics, ready: AtomicBool::new(true) }))
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }
}
