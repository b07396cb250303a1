//! Where a batch's time goes, phase by phase: each phase's seconds go to
//! the `beacon_processor_phase_seconds{phase}` histogram, and the whole as
//! one debug line (`RUST_LOG=beacon_server::processor::timing=debug`), so
//! a slow processor can be read without a profiler.

use std::time::Instant;

pub struct Phases {
    half: &'static str,
    started: Instant,
    last: Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    /// Starts timing one half of a batch (`decide` or `write`).
    pub fn start(half: &'static str) -> Self {
        let now = Instant::now();
        Phases { half, started: now, last: now, done: Vec::new() }
    }

    /// Ends the phase running since the last mark.
    pub fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        let seconds = (now - self.last).as_secs_f64();
        self.last = now;
        metrics::histogram!("beacon_processor_phase_seconds", "phase" => phase).record(seconds);
        self.done.push((phase, seconds));
    }

    /// Logs the phases of a half that handled `records` log records.
    pub fn finish(self, records: usize) {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let phases: Vec<String> = self.done.iter().map(|(p, s)| format!("{p} {:.0} ms", s * 1e3)).collect();
            tracing::debug!(
                "{} of {records} records: {:.0} ms ({})",
                self.half,
                self.started.elapsed().as_secs_f64() * 1e3,
                phases.join(", ")
            );
        }
    }
}
