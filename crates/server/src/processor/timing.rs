//! A batch's phases ([`beacon_store::Phases`]) as metrics:
//! `beacon_processor_phase_seconds{phase}`.

pub use beacon_store::Phases;

/// Ends `phases` (of a half that handled `records` log records) and
/// records each phase's seconds.
pub fn record(phases: Phases, records: usize) {
    for (phase, seconds) in phases.finish(records) {
        metrics::histogram!("beacon_processor_phase_seconds", "phase" => phase).record(seconds);
    }
}
