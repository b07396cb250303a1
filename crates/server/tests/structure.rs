//! The server's rooms and which way their arrows point (ARCHITECTURE.md):
//! `api/` (HTTP) → `app/` (use cases) ← `workers/`; nothing outside `api/`
//! imports from it, and the use cases know nothing of HTTP. Read from the
//! sources, so a new import that breaks the shape fails here.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Lines of `room`'s files (relative to `src/`) that name any of `banned`.
fn offences(room: &str, banned: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = if room.is_empty() { sources(&src) } else { sources(&src.join(room)) };
    assert!(!files.is_empty(), "no sources under src/{room}");
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap_or(&file).display().to_string();
        let text = std::fs::read_to_string(&file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(b) = banned.iter().find(|b| code.contains(*b)) {
                found.push(format!("src/{rel}:{}: {b}", n + 1));
            }
        }
    }
    found
}

#[test]
fn nothing_outside_api_imports_from_api() {
    let found: Vec<String> = offences("", &["crate::api", "super::api", "super::super::api"])
        .into_iter()
        .filter(|o| !o.starts_with("src/api/"))
        .collect();
    assert!(found.is_empty(), "imports from api/ outside it:\n{}", found.join("\n"));
}

#[test]
fn the_use_cases_know_nothing_of_http() {
    let banned = ["axum", "crate::state", "crate::error", "crate::auth", "crate::workers", "ApiError", "StatusCode"];
    let found = offences("app", &banned);
    assert!(found.is_empty(), "HTTP in app/:\n{}", found.join("\n"));
}

#[test]
fn workers_run_without_the_http_stack() {
    let found = offences("workers", &["axum", "crate::state", "crate::error", "crate::auth", "AppState"]);
    assert!(found.is_empty(), "HTTP in workers/:\n{}", found.join("\n"));
}

#[test]
fn the_checker_finds_what_it_looks_for() {
    // the scan itself: api/ does import HTTP, so a scan for it there is not empty
    assert!(!offences("api", &["axum"]).is_empty());
}
