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

/// What is wrong with the settings of the role (which store it needs, which
/// keys it may hold).
pub(crate) fn problems(settings: &crate::settings::Settings) -> Vec<String> {
    let mut p = Vec::new();
    match settings.role() {
        None => p.push(format!("server.role {:?} must be all, api, worker or edge", settings.server.role)),
        Some(ProcessRole::Api | ProcessRole::Worker | ProcessRole::Edge)
            if settings.storage.database_url.trim().is_empty() =>
        {
            p.push(
                "server.role api, worker and edge share a PostgreSQL store: set storage.database_url \
                 (the embedded store serves one process, role all)"
                    .into(),
            )
        }
        Some(_) => {}
    }
    match (settings.role(), settings.security.edge_public_key.trim().is_empty()) {
        (Some(ProcessRole::Edge), true) => p.push(
            "server.role edge seals personal data for the core nodes: set security.edge_public_key \
             to what `beacon keys edge-public` prints on one"
                .into(),
        ),
        (Some(ProcessRole::Edge), false) if !settings.security.encryption_key.is_empty() => {
            p.push("server.role edge holds no encryption key: leave security.encryption_key empty".into())
        }
        (Some(ProcessRole::Edge), false)
            if beacon_store::PiiCipher::sealing_for(&settings.security.edge_public_key).is_err() =>
        {
            p.push("security.edge_public_key must be what `beacon keys edge-public` prints (32 bytes, base64)".into())
        }
        (Some(r), false) if r != ProcessRole::Edge => {
            p.push("security.edge_public_key is for server.role edge only".into())
        }
        _ => {}
    }
    p
}
