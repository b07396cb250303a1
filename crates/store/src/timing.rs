//! Where a processor batch's time goes, phase by phase: one debug line per
//! timed part (`RUST_LOG=beacon_store::timing=debug`), and the phases'
//! seconds for the caller's metrics (`beacon_processor_phase_seconds`), so
//! a slow processor can be read without a profiler.

use std::time::Instant;

pub struct Phases {
    what: &'static str,
    started: Instant,
    last: Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    /// Starts timing `what` (a half of a batch, or a part of its write).
    pub fn start(what: &'static str) -> Self {
        let now = Instant::now();
        Phases { what, started: now, last: now, done: Vec::new() }
    }

    /// Ends the phase running since the last mark.
    pub fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.done.push((phase, (now - self.last).as_secs_f64()));
        self.last = now;
    }

    /// Logs the phases of what handled `records` log records, and answers
    /// each phase's seconds.
    pub fn finish(self, records: usize) -> Vec<(&'static str, f64)> {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let phases: Vec<String> = self.done.iter().map(|(p, s)| format!("{p} {:.0} ms", s * 1e3)).collect();
            tracing::debug!(
                "{} of {records} records: {:.0} ms ({})",
                self.what,
                self.started.elapsed().as_secs_f64() * 1e3,
                phases.join(", ")
            );
        }
        self.done
    }
}
