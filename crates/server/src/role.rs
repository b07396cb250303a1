//! What a process runs: `server.role`.

/// What a process runs (`server.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessRole {
    All,
    Api,
    Worker,
}

impl ProcessRole {
    pub fn parse(s: &str) -> Option<ProcessRole> {
        match s {
            "all" => Some(ProcessRole::All),
            "api" => Some(ProcessRole::Api),
            "worker" => Some(ProcessRole::Worker),
            _ => None,
        }
    }

    /// Serves ingest and the API.
    pub fn serves_api(self) -> bool {
        self != ProcessRole::Worker
    }

    /// Runs the processor and the background workers.
    pub fn works(self) -> bool {
        self != ProcessRole::Api
    }
}
