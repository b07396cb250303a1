//! `beacon users`: console users directly in the store, so the first
//! admin of a fresh install can be made before anyone can log in.

use crate::{Common, load_settings};
use anyhow::anyhow;
use beacon_core::ErrorCode;
use beacon_core::access::Role;
use beacon_server::app::users::{self, NewUser};
use beacon_server::app::{App, SystemClock, writer};
use beacon_server::bus::LogSink;
use beacon_server::open_store;
use beacon_server::settings::Settings;
use beacon_store::{SqlStore, Store, User};
use clap::Subcommand;
use std::sync::Arc;

/// The audit log's actor for what this command does.
const ACTOR: &str = "cli";

/// Letters and digits that cannot be taken for one another (no 0/O, 1/l/I).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/// Characters of a generated password (about 93 bits).
const GENERATED_CHARS: usize = 16;

#[derive(Subcommand)]
pub enum UserAction {
    /// Create a console user (the first admin of a fresh install, say); without
    /// a password, one is generated and printed once.
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        email: String,
        /// admin, marketer, analyst or viewer.
        #[arg(long)]
        role: String,
        /// Shown in the console (default: the part of the email before @).
        #[arg(long)]
        name: Option<String>,
        /// The console's language for this user: zh-CN or en (default: the browser's).
        #[arg(long)]
        locale: Option<String>,
        /// 10 to 128 characters (default: a generated one, printed once).
        #[arg(long, env = "BEACON_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List console users (never their passwords).
    List {
        #[command(flatten)]
        common: Common,
    },
}

pub async fn run(action: UserAction) -> anyhow::Result<()> {
    match action {
        UserAction::Create { common, email, role, name, locale, password } => {
            let settings = load_settings(&common, None)?;
            quiet_logging(&settings);
            let role = parse_role(&role)?;
            let generated = password.is_none();
            let password = match password {
                Some(p) => p,
                None => generate_password()?,
            };
            let new =
                NewUser { email: &email, name: name.as_deref(), role, password: &password, locale: locale.as_deref() };
            let listen = settings.server.listen.clone();
            let store = Arc::new(open_store(&settings).await?);
            let made = create_on(&store, settings, &new).await;
            store.close().await;
            let user = made?;
            println!("created user {} <{}>, role {}", user.id, user.email, user.role.as_str());
            if generated {
                println!("password: {password}");
                println!("(shown only once: store it now; the user can change it in the console)");
            }
            println!("log in to the console at {}", console_url(&listen));
        }
        UserAction::List { common } => {
            let settings = load_settings(&common, None)?;
            quiet_logging(&settings);
            let store = open_store(&settings).await?;
            let listed = store.users().list_users().await;
            store.close().await;
            for u in listed? {
                let state =
                    u.disabled_at.map_or_else(|| "active".to_string(), |at| format!("disabled {}", at.to_rfc3339()));
                println!("{}\t{}\t{state}\tcreated {}\t{}", u.email, u.role.as_str(), u.created_at.to_rfc3339(), u.id);
            }
        }
    }
    Ok(())
}

/// Errors and warnings on stderr (an internal error's cause is logged, not
/// answered), unless `RUST_LOG` asks for more.
fn quiet_logging(settings: &Settings) {
    let mut quiet = settings.clone();
    quiet.log.level = "warn".into();
    crate::init_logging(&quiet);
}

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role).ok_or_else(|| anyhow!("role {role:?} is not admin, marketer, analyst or viewer"))
}

/// Creates the user through the use case the API's `POST /api/v1/users`
/// uses (its checks, its audit entry), on an app over `store` that serves
/// nothing: its log writer and committer stay idle.
pub async fn create_on(store: &Arc<SqlStore>, settings: Settings, new: &NewUser<'_>) -> anyhow::Result<User> {
    let dyn_store: Arc<dyn Store> = store.clone();
    let (writer, writer_task) = writer::spawn(
        LogSink::Store(dyn_store.clone()),
        1,
        1,
        writer::Ack::AfterSync,
        Arc::new(tokio::sync::Notify::new()),
    );
    let app = App::new(dyn_store, writer, settings, Arc::new(SystemClock), None);
    let made = create(&app, new).await;
    drop(app);
    let _ = writer_task.await;
    made
}

/// [`users::create`] audited as the command line, its refusals as plain messages.
pub async fn create(app: &App, new: &NewUser<'_>) -> anyhow::Result<User> {
    users::create(app, new, ACTOR).await.map_err(|e| match e.code {
        ErrorCode::Conflict => anyhow!("{} (list users with `beacon users list`)", e.message),
        _ => anyhow!(e.message),
    })
}

/// A strong password: [`GENERATED_CHARS`] characters drawn evenly from
/// [`ALPHABET`] with the operating system's randomness.
pub fn generate_password() -> anyhow::Result<String> {
    // the largest multiple of the alphabet's size in a byte: no bias
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::with_capacity(GENERATED_CHARS);
    let mut bytes = [0u8; 64];
    while out.len() < GENERATED_CHARS {
        getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness for a password: {e}"))?;
        for &b in bytes.iter().filter(|&&b| usize::from(b) < limit) {
            if out.len() == GENERATED_CHARS {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

/// Where the console of a server listening on `listen` is (a wildcard
/// address is reached on this machine as 127.0.0.1).
pub fn console_url(listen: &str) -> String {
    let host = match listen.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => format!("127.0.0.1:{}", addr.port()),
        _ => listen.to_string(),
    };
    format!("http://{host}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_unambiguous_and_different() {
        let a = generate_password().expect("password");
        let b = generate_password().expect("password");
        assert_eq!(a.chars().count(), GENERATED_CHARS);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn the_console_url_names_a_reachable_address() {
        assert_eq!(console_url("127.0.0.1:8080"), "http://127.0.0.1:8080/");
        assert_eq!(console_url("0.0.0.0:9000"), "http://127.0.0.1:9000/");
        assert_eq!(console_url("shop.internal:80"), "http://shop.internal:80/");
    }
}
