//! Loading the settings' layers: the compiled-in defaults, then a TOML
//! file, then `BEACON__SECTION__KEY` environment variables, then the
//! command line; every problem reported together.

use super::Settings;
use std::path::{Path, PathBuf};

/// Command-line overrides (the last layer).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub role: Option<String>,
    pub nats_url: Option<String>,
}

/// Every problem found while loading settings.
#[derive(Debug, thiserror::Error)]
#[error("invalid settings:\n  - {}", .0.join("\n  - "))]
pub struct SettingsError(pub Vec<String>);

const ENV_PREFIX: &str = "BEACON__";

fn env_value(raw: &str) -> toml::Value {
    // `8`, `true`, `["a","b"]` keep their TOML type; anything else is a string.
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

impl Settings {
    /// Loads all layers. `env` is passed in (not read here) so tests control it.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Settings, SettingsError> {
        let mut errors = Vec::new();
        let mut table = toml::Table::try_from(Settings::default()).map_err(|e| SettingsError(vec![e.to_string()]))?;
        if let Some(path) = file {
            match std::fs::read_to_string(path).map(|s| s.parse::<toml::Table>()) {
                Ok(Ok(file_table)) => merge(&mut table, file_table),
                Ok(Err(e)) => errors.push(format!("{}: {e}", path.display())),
                Err(e) => errors.push(format!("{}: {e}", path.display())),
            }
        }
        for (key, value) in env {
            let Some(rest) = key.strip_prefix(ENV_PREFIX) else { continue };
            let parts: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
            let [section, field] = parts.as_slice() else {
                errors.push(format!("{key}: expected BEACON__SECTION__KEY"));
                continue;
            };
            let entry = table.entry(section.clone()).or_insert_with(|| toml::Value::Table(Default::default()));
            match entry.as_table_mut() {
                Some(t) => {
                    t.insert(field.clone(), env_value(&value));
                }
                None => errors.push(format!("{key}: {section} is not a section")),
            }
        }
        let mut settings: Settings = match table.try_into() {
            Ok(s) => s,
            Err(e) => {
                errors.push(e.to_string().trim().to_string());
                return Err(SettingsError(errors));
            }
        };
        if let Some(v) = &overrides.listen {
            settings.server.listen = v.clone();
        }
        if let Some(v) = &overrides.data_dir {
            settings.storage.data_dir = v.clone();
        }
        if let Some(v) = &overrides.database_url {
            settings.storage.database_url = v.clone();
        }
        if let Some(v) = &overrides.role {
            settings.server.role = v.clone();
        }
        if let Some(v) = &overrides.nats_url {
            settings.bus.nats_url = v.clone();
        }
        errors.extend(settings.problems());
        if errors.is_empty() { Ok(settings) } else { Err(SettingsError(errors)) }
    }
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}
