//! Group commit for checkouts: one task takes every checkout waiting and
//! commits them in one transaction (each on its own inside it: one that
//! reaches a limit does not stop the others), so a burst of orders on the
//! same coupon costs one commit rather than one each.

use beacon_core::Error;
use beacon_store::{Checkout, CheckoutOutcome, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most checkouts in one transaction.
pub const MAX_GROUP: usize = 256;

type Job = (Checkout, oneshot::Sender<Result<CheckoutOutcome, String>>);

#[derive(Clone)]
pub struct Committer {
    jobs: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the committing task; it ends when the last handle is dropped.
    pub fn spawn(store: Arc<dyn Store>) -> Committer {
        let (jobs, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(store, rx));
        Committer { jobs }
    }

    pub async fn commit(&self, checkout: Checkout) -> Result<CheckoutOutcome, Error> {
        let (tx, rx) = oneshot::channel();
        let stopped = || Error::new(beacon_core::ErrorCode::Unavailable, "the server is shutting down");
        self.jobs.send((checkout, tx)).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?.map_err(beacon_store::internal_error)
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut jobs, MAX_GROUP).await > 0 {
        let batch: Vec<Checkout> = jobs.iter().map(|(c, _)| c.clone()).collect();
        metrics::histogram!("beacon_checkout_group_size").record(batch.len() as f64);
        match store.promotions().commit_checkouts(&batch).await {
            Ok(outcomes) => {
                for ((_, reply), outcome) in jobs.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                let e = e.to_string();
                for (_, reply) in jobs.drain(..) {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
