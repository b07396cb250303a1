//! The demo's console logins: an admin and a marketer with generated
//! passwords. Like the demo's keys, the passwords are kept in the data
//! directory (`demo-logins.json`) so a second start prints them again; a
//! user the store has but the file does not (a reused database) is left
//! as it is and reported.

use beacon_core::access::Role;
use beacon_server::app::App;
use beacon_server::app::users::NewUser;
use std::collections::BTreeMap;
use std::path::Path;

/// The demo's users: (email, name, role).
const USERS: [(&str, &str, Role); 2] =
    [("admin@demo.beacon", "Demo admin", Role::Admin), ("marketer@demo.beacon", "Demo marketer", Role::Marketer)];

/// A console login of the demo.
pub struct Login {
    pub email: &'static str,
    pub role: Role,
    /// None: the user was there already and its password is not in the
    /// data directory.
    pub password: Option<String>,
}

fn read(file: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", file.display())),
    }
}

fn write(file: &Path, passwords: &BTreeMap<String, String>) -> anyhow::Result<()> {
    std::fs::write(file, serde_json::to_string(passwords)?)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Creates the demo's users the store does not have (their passwords kept
/// in `dir` first, so none is lost) and answers every login.
pub async fn ensure(app: &App, dir: &Path) -> anyhow::Result<Vec<Login>> {
    let file = dir.join("demo-logins.json");
    let mut passwords = read(&file)?;
    let mut logins = Vec::with_capacity(USERS.len());
    for (email, name, role) in USERS {
        if app.store.users().find_user_by_email(email).await?.is_some() {
            logins.push(Login { email, role, password: passwords.get(email).cloned() });
            continue;
        }
        let password = match passwords.get(email) {
            Some(p) => p.clone(),
            None => {
                let p = crate::users_cli::generate_password()?;
                passwords.insert(email.to_string(), p.clone());
                write(&file, &passwords)?;
                p
            }
        };
        let new = NewUser { email, name: Some(name), role, password: &password, locale: None };
        crate::users_cli::create(app, &new).await?;
        logins.push(Login { email, role, password: Some(password) });
    }
    Ok(logins)
}
