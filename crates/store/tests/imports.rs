//! Uploaded imports on both stores: progress written and read back,
//! rejected lines kept in order, sealed at rest, capped; old imports
//! forgotten when a new one is recorded.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_store::*;
use common::Harness;
use fixtures::t;

fn import(id: &str, at: u32) -> Import {
    Import {
        id: id.into(),
        kind: "orders".into(),
        format: "csv".into(),
        file_name: Some("订单.csv".into()),
        status: ImportStatus::Running,
        bytes_total: 1000,
        bytes_read: 0,
        lines: 0,
        accepted: 0,
        rejected: 0,
        notes: Vec::new(),
        error: None,
        created_by: "u_1".into(),
        created_at: t(at),
        updated_at: t(at),
        finished_at: None,
    }
}

fn reject(line: u64) -> ImportReject {
    ImportReject {
        line,
        column: Some("email".into()),
        reason: "invalid_identity: not an email".into(),
        text: format!("O-{line},lei.li@example.cn,not-an-email"),
    }
}

async fn imports_and_rejects(h: &Harness) {
    let store = h.store.imports();
    let mut i = import("imp_1", 1);
    store.create_import(&i, t(0)).await.expect("create");
    assert_eq!(store.get_import("imp_1").await.expect("get"), Some(i.clone()));
    (i.bytes_read, i.lines, i.accepted, i.rejected) = (400, 10, 7, 2);
    i.notes.push("not imported: column x (no field of orders)".into());
    store.update_import(&i, &[reject(3), reject(9)]).await.expect("progress");
    (i.status, i.bytes_read, i.finished_at) = (ImportStatus::Done, 1000, Some(t(2)));
    store.update_import(&i, &[reject(12)]).await.expect("end");
    assert_eq!(store.get_import("imp_1").await.expect("get"), Some(i.clone()));
    let kept = store.import_rejects("imp_1").await.expect("rejects");
    assert_eq!(kept, vec![reject(3), reject(9), reject(12)], "in the order found");
    // sealed at rest: no email, no line text in the clear
    let raw = h.raw.dump_table("import_rejects", "detail").await;
    assert!(!raw.contains("example.cn") && !raw.contains("not-an-email"), "{raw}");
    // an unknown import: nothing to update
    assert!(matches!(store.update_import(&import("imp_x", 1), &[]).await, Err(StoreError::NotFound)));

    // kept up to the cap, counted past it (the count is the caller's)
    let many: Vec<ImportReject> = (1..=(MAX_KEPT_REJECTS as u64 + 5)).map(reject).collect();
    let mut big = import("imp_2", 5);
    store.create_import(&big, t(0)).await.expect("create");
    big.rejected = many.len() as i64;
    store.update_import(&big, &many[..100]).await.expect("first");
    store.update_import(&big, &many[100..]).await.expect("rest");
    let kept = store.import_rejects("imp_2").await.expect("rejects");
    assert_eq!(kept.len() as i64, MAX_KEPT_REJECTS);
    assert_eq!(kept.last().map(|r| r.line), Some(MAX_KEPT_REJECTS as u64));

    assert_eq!(
        store.list_imports(10).await.expect("list").iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["imp_2", "imp_1"]
    );
    // a new import forgets those created before the cut, with their lines
    store.create_import(&import("imp_3", 9), t(3)).await.expect("create");
    let ids: Vec<String> = store.list_imports(10).await.expect("list").into_iter().map(|i| i.id).collect();
    assert_eq!(ids, ["imp_3", "imp_2"]);
    assert_eq!(store.import_rejects("imp_1").await.expect("rejects"), vec![]);
}

#[tokio::test]
async fn embedded() {
    imports_and_rejects(&Harness::embedded().await).await;
}

#[tokio::test]
async fn postgres() {
    let h = Harness::postgres().await;
    imports_and_rejects(&h).await;
    h.cleanup().await;
}
