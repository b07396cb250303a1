//! Background work: the tasks that call the use cases on a schedule rather
//! than for a request — sign-up coupons, points, expired teams, limits given
//! back by refunds, lost orders written again. They hold an [`App`], never
//! the HTTP stack, and stop together.
//!
//! (The processor, which consumes the event log, runs on its own thread:
//! `crate::processor`.)

use crate::app::App;
use crate::app::checkout::{loyalty, recover, returns, signup, teams};
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running tasks.
pub struct Workers {
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

/// Starts every background task on `app`.
pub fn spawn(app: &App) -> Workers {
    let (stop, rx) = watch::channel(false);
    let tasks = vec![
        periodic("issuing sign-up coupons", signup::EVERY, rx.clone(), app.clone(), |app| async move {
            signup::settle(&app).await.map(drop)
        }),
        periodic("points", loyalty::EVERY, rx.clone(), app.clone(), |app| async move {
            loyalty::follow(&app).await.map(drop)
        }),
        periodic("expiring group-buy teams", teams::EVERY, rx.clone(), app.clone(), |app| async move {
            let now = app.now();
            teams::expire(&app, now).await.map(drop)
        }),
        tokio::spawn(give_back(app.clone(), rx.clone())),
        tokio::spawn(sweep_lost_orders(app.clone(), rx)),
    ];
    Workers { tasks, stop }
}

impl Workers {
    /// Stops every task and waits for them (they hold the app, so the log
    /// writer cannot drain while they run).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Runs `step` now and then every `every` until `stop`; a failure is logged
/// and the next round tries again.
fn periodic<F, Fut>(
    what: &'static str,
    every: Duration,
    mut stop: watch::Receiver<bool>,
    app: App,
    step: F,
) -> JoinHandle<()>
where
    F: Fn(App) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), beacon_core::Error>> + Send,
{
    tokio::spawn(async move {
        loop {
            if let Err(e) = step(app.clone()).await {
                tracing::warn!("{what}: {}", e.message);
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    })
}

/// Gives back the promotion limits of refunds and cancellations, following
/// them from where this run started.
async fn give_back(app: App, mut stop: watch::Receiver<bool>) {
    let mut after = 0;
    loop {
        if let Err(e) = returns::settle(app.store.as_ref(), &mut after).await {
            tracing::warn!("giving back promotion limits of refunds: {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(returns::EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Writes again the orders of checkouts that committed without their event:
/// at start over the last [`recover::LOOK_BACK`], then every
/// [`recover::EVERY`].
async fn sweep_lost_orders(app: App, mut stop: watch::Receiver<bool>) {
    let mut after = app.now() - recover::LOOK_BACK;
    loop {
        let before = app.now() - recover::GRACE;
        match recover::sweep(&app, after, before).await {
            Ok(n) => {
                if n > 0 {
                    tracing::warn!("wrote again {n} orders whose checkout committed without its order event");
                }
                // the next sweep looks again a little before where this one ended
                after = before - recover::GRACE;
            }
            Err(e) => tracing::warn!("sweeping checkouts: {}", e.message),
        }
        tokio::select! {
            _ = tokio::time::sleep(recover::EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
