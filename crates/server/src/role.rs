//! What a process runs: `server.role`.

/// What a process runs (`server.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessRole {
    All,
    Api,
    Worker,
    /// Ingest and cart pricing only, with no key that opens personal data
    /// (the public half of a hybrid-cloud split; docs/SCALE-OUT.md).
    Edge,
}

impl ProcessRole {
    pub fn parse(s: &str) -> Option<ProcessRole> {
        match s {
            "all" => Some(ProcessRole::All),
            "api" => Some(ProcessRole::Api),
            "worker" => Some(ProcessRole::Worker),
            "edge" => Some(ProcessRole::Edge),
            _ => None,
        }
    }

    /// Serves ingest and the API.
    pub fn serves_api(self) -> bool {
        self != ProcessRole::Worker
    }

    /// Runs the processor and the background workers.
    pub fn works(self) -> bool {
        matches!(self, ProcessRole::All | ProcessRole::Worker)
    }
}
