use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn layers_apply_in_order_defaults_file_env_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("beacon.toml");
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\n[storage]\nmax_connections = 3\n").expect("write");
    let s = Settings::load(
        Some(&file),
        env(&[
            ("BEACON__STORAGE__MAX_CONNECTIONS", "5"),
            ("BEACON__IDENTITY__CUSTOM_KINDS", "[\"member_no\"]"),
            ("PATH", "/bin"),
        ]),
        &Overrides { data_dir: Some("/tmp/x".into()), ..Default::default() },
    )
    .expect("valid");
    assert_eq!(s.server.listen, "127.0.0.1:9000");
    assert_eq!(s.storage.max_connections, 5);
    assert_eq!(s.storage.data_dir, PathBuf::from("/tmp/x"));
    assert_eq!(s.identity.custom_kinds, ["member_no"]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = Settings::load(
        None,
        env(&[
            ("BEACON__SERVER__LISTEN", "nowhere"),
            ("BEACON__STORAGE__SYNCHRONOUS", "sometimes"),
            ("BEACON__LOG__FORMAT", "xml"),
        ]),
        &Overrides { database_url: Some("mysql://x".into()), ..Default::default() },
    )
    .err()
    .map(|e| e.0)
    .unwrap_or_default();
    assert_eq!(err.len(), 4, "{err:?}");
}

#[test]
fn unknown_keys_are_rejected() {
    let err = Settings::load(None, env(&[("BEACON__SERVER__LISTN", "x")]), &Overrides::default());
    assert!(err.is_err_and(|e| e.to_string().contains("listn")));
}

#[test]
fn secrets_are_redacted_in_debug() {
    let mut s = Settings::default();
    s.security.encryption_key = "00".repeat(32);
    s.storage.database_url = "postgres://u:hunter2@db/x".into();
    let text = format!("{s:?}");
    assert!(!text.contains("hunter2") && !text.contains(&"00".repeat(32)));
}

#[test]
fn roles_other_than_all_need_postgresql() {
    let load = |role: &str, url: Option<&str>| {
        Settings::load(
            None,
            env(&[]),
            &Overrides { role: Some(role.into()), database_url: url.map(String::from), ..Default::default() },
        )
    };
    assert_eq!(load("all", None).ok().and_then(|s| s.role()), Some(ProcessRole::All));
    assert!(load("worker", None).is_err_and(|e| e.to_string().contains("PostgreSQL")));
    assert!(load("api", None).is_err_and(|e| e.to_string().contains("PostgreSQL")));
    let worker = load("worker", Some("postgres://db/x")).ok().and_then(|s| s.role());
    assert_eq!(worker, Some(ProcessRole::Worker));
    assert!(load("edge", None).is_err_and(|e| e.to_string().contains("PostgreSQL")));
    assert!(load("cloud", None).is_err_and(|e| e.to_string().contains("all, api, worker or edge")));
}

#[test]
fn the_bus_needs_postgresql_and_sane_names() {
    let load = |vars: &[(&str, &str)], overrides: Overrides| {
        Settings::load(None, env(vars), &overrides).err().map(|e| e.0).unwrap_or_default()
    };
    let nats = Overrides { nats_url: Some("nats://127.0.0.1:4222".into()), ..Default::default() };
    let err = load(&[], nats.clone());
    assert!(err.len() == 1 && err[0].contains("PostgreSQL"), "{err:?}");
    let pg = Overrides { database_url: Some("postgres://x@y/z".into()), ..nats };
    assert!(load(&[], pg.clone()).is_empty());
    let err = load(
        &[("BEACON__BUS__PARTITIONS", "0"), ("BEACON__BUS__STREAM", "a.b"), ("BEACON__BUS__SUBJECT_PREFIX", "x..y")],
        pg.clone(),
    );
    assert_eq!(err.len(), 3, "{err:?}");
    let err = load(&[], Overrides { nats_url: Some("http://nats".into()), ..pg });
    assert!(err.len() == 1 && err[0].contains("nats://"), "{err:?}");
    assert!(load(&[], Overrides::default()).is_empty(), "no bus by default");
}
