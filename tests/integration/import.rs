//! `canvas import`: all or nothing, errors that name file, line and column,
//! and re-importing the same files changes nothing.

use std::process::Command;

use canvas::import::{read_dir, ImportRefused};
use canvas::store::{ImportInterrupted, Store};
use tempfile::TempDir;

use crate::support::*;

fn good_data() -> Data {
    Data::new()
        .member("M1", 3, "1990-03-14")
        .member("M2", 1, "")
        .order("M1", "2025-12-01T12:00:00+08:00")
        .raw_event(r#"E1,M1,coupon_issued,2026-01-01T10:00:00+08:00,"{""coupon_id"":""C1""}""#)
}

fn import(store: &Store, data: &Data) -> anyhow::Result<canvas::store::ImportReport> {
    let dir = data.write();
    let parsed = read_dir(dir.path())?;
    store.import(&parsed)
}

fn refusal(result: anyhow::Result<canvas::store::ImportReport>) -> Vec<String> {
    let error = result.expect_err("the import is refused");
    let refused = error.downcast_ref::<ImportRefused>().expect("an ImportRefused");
    refused.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn reimporting_the_same_files_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let first = import(&store, &good_data()).unwrap();
    assert_eq!((first.members.new, first.orders.new, first.events.new, first.products.new), (2, 1, 1, 1));
    let before = store.dataset().unwrap();
    let again = import(&store, &good_data()).unwrap();
    assert!(!again.changed_anything());
    assert_eq!(again.members.unchanged, 2);
    assert_eq!(store.dataset().unwrap(), before);
}

#[test]
fn a_changed_row_is_counted_as_changed() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    import(&store, &good_data()).unwrap();
    let moved = Data::new().raw_member("M2,会员M2,2,,2025-01-01T10:00:00+08:00,,S01,G0101,");
    let report = import(&store, &moved).unwrap();
    assert_eq!((report.members.changed, report.members.unchanged), (1, 0));
}

#[test]
fn bad_rows_are_named_by_file_line_and_column_and_nothing_is_applied() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    import(&store, &good_data()).unwrap();
    let before = store.dataset().unwrap();

    let bad = good_data()
        .raw_member("M3,会员M3,7,,2025-01-01T10:00:00+08:00,,S01,G0101,")
        .raw_member("M4,会员M4,2,1990-02-30,2025-01-01T10:00:00+08:00,,S01,G0101,")
        .raw_member("M5,会员M5,2,,2025-01-01T10:00:00+08:00,,S01,G0101,Mars/Base")
        .raw_order("O9,M1,2026-01-01 10:00,12.5,store,dress,DR-1")
        .raw_order("O10,M1,2026-01-01T10:00:00+08:00,12,345,store,dress,DR-1")
        .raw_event("E2,M1,visit,2026-01-01T10:00:00+08:00,[1]");
    let errors = refusal(import(&store, &bad));
    let expected = [
        "members.csv:4: column 3 `level`: `7` is not a member level 1–4",
        "members.csv:5: column 4 `birthday`: `1990-02-30` is not a date YYYY-MM-DD",
        "orders.csv:3: column 3 `placed_at`: `2026-01-01 10:00` is not an RFC 3339 instant",
        // An unquoted comma in the amount makes one field too many: said so,
        // not blamed on the channel column that then reads `345`.
        "orders.csv:4: has 8 fields, the header has 7: is a value with a comma in it not quoted?",
        "events.csv:3: column 5 `attrs`: `[1]` is not a JSON object",
    ];
    for prefix in expected {
        assert!(errors.iter().any(|e| e.starts_with(prefix)), "no error starting {prefix:?} in {errors:#?}");
    }
    assert!(errors.iter().any(|e| e.starts_with("members.csv:6: column 9 `tz`: `Mars/Base`")), "{errors:#?}");
    assert_eq!(store.dataset().unwrap(), before, "a refused import changes nothing");
}

#[test]
fn orders_of_unknown_members_are_refused() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let orphan = good_data().order("M404", "2025-12-01T12:00:00+08:00");
    let errors = refusal(import(&store, &orphan));
    assert_eq!(
        errors,
        ["orders.csv:3: column 2 `member_id`: member `M404` is neither in members.csv nor in the store"]
    );
    assert!(store.dataset().unwrap().members.is_empty(), "the good members were not applied either");
    // Once the member is in the store, an orders-only import is fine.
    import(&store, &Data::new().member("M404", 1, "")).unwrap();
    let orders_only = TempDir::new().unwrap();
    std::fs::write(
        orders_only.path().join("orders.csv"),
        format!("{ORDERS_HEADER}\nO1,M404,2025-12-01T12:00:00+08:00,10,online,tops,TP-1\n"),
    )
    .unwrap();
    store.import(&read_dir(orders_only.path()).unwrap()).unwrap();
}

#[test]
fn duplicate_ids_and_missing_columns_are_refused() {
    let dup = good_data().raw_member("M1,又一个,2,,2025-01-01T10:00:00+08:00,,S01,G0101,");
    let dir = dup.write();
    let errors: Vec<String> = read_dir(dir.path()).unwrap_err().errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors, ["members.csv:4: column 1 `member_id`: `M1` already appears on line 2"]);

    let no_sku = TempDir::new().unwrap();
    std::fs::write(no_sku.path().join("orders.csv"), "order_id,member_id,placed_at,amount,channel,category\n").unwrap();
    let errors = read_dir(no_sku.path()).unwrap_err().errors;
    assert!(errors[0].to_string().starts_with("orders.csv:1: missing column `sku`"), "{}", errors[0]);
}

#[test]
fn extra_columns_are_ignored_and_utc_instants_accepted() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("members.csv"),
        "member_id,email,name,level,birthday,joined_at,wecom_added_at,store_id,guide_id,tz\n\
         M1,a@b.c,张三,2,,2025-01-01T02:00:00Z,,S01,G1,Asia/Tokyo\n",
    )
    .unwrap();
    let parsed = read_dir(dir.path()).unwrap();
    assert_eq!(parsed.data.members[0].name, "张三");
    assert_eq!(parsed.data.members[0].tz.as_deref(), Some("Asia/Tokyo"));
}

#[test]
fn the_import_command_reports_counts_and_refuses_bad_files_with_exit_code_1() {
    let work = TempDir::new().unwrap();
    let data = good_data().write();
    let store = work.path().join("store");
    let canvas = |data: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_canvas"))
            .args(["import", "--data"])
            .arg(data)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap()
    };
    let first = canvas(data.path());
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.contains("members.csv          2 rows: 2 new, 0 changed, 0 unchanged"), "{stdout}");
    let again = String::from_utf8_lossy(&canvas(data.path()).stdout).to_string();
    assert!(again.contains("nothing new for"), "{again}");

    let bad = good_data().raw_order("O9,M1,yesterday,1,store,dress,DR-1").write();
    let refused = canvas(bad.path());
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("import refused, nothing was changed: 1 bad row"), "{stderr}");
    assert!(stderr.contains("orders.csv:3: column 3 `placed_at`"), "{stderr}");
}

/// A store whose import was interrupted under canvas before the undo log
/// holds a bare marker: nothing says which import it was, so no import may
/// lift it — only the discard command, which says it cannot roll back.
#[test]
fn a_bare_marker_from_an_earlier_canvas_is_lifted_only_by_the_discard_command() {
    let dir = TempDir::new().unwrap();
    put_raw(dir.path(), "records", "meta/import-in-progress", "in progress");
    let store = Store::open(dir.path()).unwrap();
    let error = store.dataset().expect_err("runs are refused").to_string();
    assert!(error.contains("an import into this store was interrupted"), "{error}");
    assert!(error.contains("runs are refused"), "{error}");

    let refused = import(&store, &good_data()).expect_err("no import can tell it is the interrupted one");
    let interrupted = refused.downcast_ref::<ImportInterrupted>().expect("an ImportInterrupted");
    assert_eq!(interrupted.interrupted, None);
    assert!(refused.to_string().contains("--discard-interrupted"), "{refused}");
    assert!(store.dataset().is_err(), "the refused import did not lift the guard");
    drop(store);

    let discard = canvas().args(["import", "--discard-interrupted", "--store"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&discard.stdout);
    assert!(discard.status.success(), "{stdout}{}", String::from_utf8_lossy(&discard.stderr));
    assert!(stdout.contains("nothing could be rolled back"), "{stdout}");
    let store = Store::open(dir.path()).unwrap();
    import(&store, &good_data()).unwrap();
    assert_eq!(store.dataset().unwrap().members.len(), 2);
}

#[test]
fn a_store_from_before_decision_pages_is_refused_by_name() {
    let dir = TempDir::new().unwrap();
    put_raw(dir.path(), "decisions", "dormant-recall/recall/2026-09/M1", "an old record");
    let error = Store::open(dir.path()).err().expect("the old store is refused").to_string();
    assert!(error.contains(&dir.path().display().to_string()), "names the store: {error}");
    assert!(error.contains("written by an earlier canvas"), "{error}");
}

/// Writes one record straight into a sled tree of the store at `dir`, as
/// another process or an older build would have left it.
fn put_raw(dir: &std::path::Path, tree: &str, key: &str, value: &str) {
    let db = sled::open(dir).unwrap();
    db.open_tree(tree).unwrap().insert(key, value).unwrap();
    db.flush().unwrap();
}
