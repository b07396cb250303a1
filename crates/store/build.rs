//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!`
//! embeds the directories at compile time, and cargo does not otherwise see
//! a new file in them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
