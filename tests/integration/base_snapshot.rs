//! The member base's snapshot beside the store (`member-base.snapshot`):
//! `canvas run` leaves it, the next run starts from it and decides exactly
//! as a run that read the store; an import that changes a record makes it
//! stale, so the next start reads the store; the coupons a run records are
//! added to it in place; a damaged one is said and rebuilt, never fatal.

use std::path::Path;
use std::process::Output;

use canvas::app::{App, KindsWanted, SNAPSHOT_FILE};
use canvas::member_base::KeptKinds;
use canvas::model::{Event, Millis};
use canvas::store::Store;
use tempfile::TempDir;

use crate::support::*;

fn run(store: &Path, at: &str) -> Output {
    let output = canvas()
        .args(["run", "--no-dispatch", "--at", at, "--plugins"])
        .arg(repo_root().join("target/plugins"))
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn generated(work: &TempDir) -> std::path::PathBuf {
    generate(&work.path().join("data"), 3000, 5)
}

fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_store(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// The events of member `id` as the base sees them, as (id, kind, at, attrs).
fn events_of(app: &App, store: &Store, id: &str) -> Vec<(String, String, Millis, String)> {
    let base = app.stored_member_base(store, KindsWanted::AtLeast(&KeptKinds::Every)).unwrap();
    let m = base.index_of(id).unwrap();
    base.events_as_of(m, Millis::MAX)
        .iter()
        .map(|e| (e.id.to_string(), e.kind.to_string(), e.at, e.attrs.to_string()))
        .collect()
}

#[test]
fn a_run_from_the_snapshot_decides_as_a_run_that_read_the_store() {
    let work = TempDir::new().unwrap();
    let data = generated(&work);
    let (kept, fresh) = (work.path().join("kept"), work.path().join("fresh"));
    import_into(&kept, &data);
    run(&kept, "2026-10-01T10:00:00+08:00");
    assert!(kept.join(SNAPSHOT_FILE).is_file(), "the run left the member base's snapshot");

    // The same store without it: the next run reads every record.
    copy_store(&kept, &fresh);
    std::fs::remove_file(fresh.join(SNAPSHOT_FILE)).unwrap();
    for day in ["2026-10-02T10:00:00+08:00", "2026-10-03T10:00:00+08:00"] {
        let (from_snapshot, from_store) = (run(&kept, day), run(&fresh, day));
        assert_eq!(String::from_utf8_lossy(&from_snapshot.stdout), String::from_utf8_lossy(&from_store.stdout));
        assert!(from_snapshot.stderr.is_empty(), "{}", String::from_utf8_lossy(&from_snapshot.stderr));
    }
    let (kept, fresh) = (Store::open(&kept).unwrap(), Store::open(&fresh).unwrap());
    let decisions = |store: &Store| {
        let mut all: Vec<String> =
            store.decisions().unwrap().iter().map(|d| serde_json::to_string(d).unwrap()).collect();
        all.sort();
        all
    };
    let decided = decisions(&kept);
    assert!(decided.len() > 1_000, "the runs decided something: {}", decided.len());
    assert!(decided == decisions(&fresh), "every decision of the three days is the same");
}

#[test]
fn an_import_makes_the_snapshot_stale_and_events_the_host_records_are_added_to_it() {
    let work = TempDir::new().unwrap();
    let data = generated(&work);
    let path = work.path().join("store");
    import_into(&path, &data);
    let app = App::new(cached_config()).unwrap();
    let store = Store::open(&path).unwrap();
    // Read from the store's records as they lie (on all cores, no event
    // held whole), the base is the one built from the data set in memory.
    let every = KindsWanted::Run(&KeptKinds::Every);
    let (read, built) = (app.stored_member_base(&store, every).unwrap(), app.member_base(store.dataset().unwrap()));
    assert_eq!(read.len(), built.len());
    for m in 0..read.len() as u32 {
        let (a, b) = (read.events_as_of(m, Millis::MAX), built.events_as_of(m, Millis::MAX));
        assert!(a.iter().eq(b.iter()), "member {m}'s events");
        assert_eq!(read.orders_as_of(m, Millis::MAX).len(), built.orders_as_of(m, Millis::MAX).len());
    }
    assert_eq!(read.events_by_kind, built.events_by_kind);
    let before = events_of(&app, &store, "M000001");
    let snapshot = std::fs::read(path.join(SNAPSHOT_FILE)).unwrap();

    // A coupon the host issued: recorded by the store, read into the base
    // from the snapshot.
    let coupon = Event {
        id: "host-coupon-1".into(),
        member_id: "M000001".into(),
        kind: "coupon_issued".into(),
        at: 1_790_000_000_000,
        attrs: r#"{"coupon_id":"C-1","value":20}"#.into(),
    };
    store.record_events(std::slice::from_ref(&coupon)).unwrap();
    let after = events_of(&app, &store, "M000001");
    assert_eq!(std::fs::read(path.join(SNAPSHOT_FILE)).unwrap(), snapshot, "read, not rebuilt");
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.contains(&(coupon.id.clone(), coupon.kind.clone(), coupon.at, coupon.attrs.clone())));
    // The same page read again after a crash adds nothing twice.
    store.record_events(std::slice::from_ref(&coupon)).unwrap();
    assert_eq!(events_of(&app, &store, "M000001"), after);

    // An import of one event: the snapshot is stale, the base has it.
    drop(store);
    let one = work.path().join("one");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::write(
        one.join("events.csv"),
        "event_id,member_id,kind,at,attrs\nX1,M000001,mini_program_visit,2026-10-07T11:00:00+08:00,\"{\"\"page\"\":\"\"home\"\"}\"\n",
    )
    .unwrap();
    import_into(&path, &one);
    let store = Store::open(&path).unwrap();
    let imported = events_of(&app, &store, "M000001");
    assert!(imported.iter().any(|e| e.0 == "X1"), "the imported event is in the base");
    assert_ne!(std::fs::read(path.join(SNAPSHOT_FILE)).unwrap(), snapshot, "saved anew");
    let fresh = app.member_base(store.dataset().unwrap());
    let m = fresh.index_of("M000001").unwrap();
    let from_store: Vec<_> = fresh
        .events_as_of(m, Millis::MAX)
        .iter()
        .map(|e| (e.id.to_string(), e.kind.to_string(), e.at, e.attrs.to_string()))
        .collect();
    assert_eq!(imported, from_store, "what the snapshot gives is what the store holds");
}

#[test]
fn a_damaged_snapshot_is_said_and_the_run_reads_the_store_and_saves_it_again() {
    let work = TempDir::new().unwrap();
    let data = generated(&work);
    let store = work.path().join("store");
    import_into(&store, &data);
    run(&store, "2026-10-01T10:00:00+08:00");
    let file = store.join(SNAPSHOT_FILE);
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&file, &bytes).unwrap();

    let output = run(&store, "2026-10-02T10:00:00+08:00");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains(&file.display().to_string()) && said.contains("checksum"), "{said}");
    assert!(said.contains("read from the store instead"), "{said}");
    let again = run(&store, "2026-10-03T10:00:00+08:00");
    assert!(again.stderr.is_empty(), "saved again, read cleanly: {}", String::from_utf8_lossy(&again.stderr));
}

/// The service keeps its member base current in place as orders come in
/// (which makes the snapshot stale); on shutdown it saves that base, so
/// the next start reads the snapshot, not the store, and has the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_saves_its_warm_base_on_shutdown_with_what_was_ingested() {
    use canvas::app::stored_member_base;
    use canvas::member_base::snapshot;
    use canvas::store::RecordsMark;
    use reqwest::StatusCode;
    use serde_json::json;

    use crate::service::*;

    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    install(&store, &[plugin("birthday-tiered")]);
    let s = start_at(service_config(&dir, "", ""), store, "2026-03-01T09:00:00+08:00", 1.0).await;
    let (status, ran) = s.post("/api/v1/runs", json!({ "at": "2026-03-01T10:00:00+08:00" }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    let order = json!([{ "order_id": "LATE-1", "member_id": "M1", "placed_at": "2026-03-01T11:00:00+08:00",
                         "amount": 199, "channel": "online", "category": "tops", "sku": "TP-1" }]);
    let (status, answer) = s.post("/api/v1/orders", order.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let file = s.store.path().join(SNAPSHOT_FILE);
    let (before, kinds) = snapshot::saved_mark::<RecordsMark>(&file).expect("the run's load saved one");
    let now = s.store.records_mark().unwrap().unwrap();
    assert_ne!(before, now, "the ingest made it stale");

    let store = s.store.clone();
    s.service.shutdown().await.unwrap();
    assert_eq!(snapshot::saved_mark::<RecordsMark>(&file), Some((now, kinds)), "saved at shutdown, current");
    let saved = std::fs::read(&file).unwrap();
    let base = stored_member_base(&store, Default::default(), KindsWanted::AtLeast(&KeptKinds::host())).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), saved, "the start read it, did not rebuild it");
    let m1 = base.index_of("M1").unwrap();
    assert_eq!(base.orders_as_of(m1, Millis::MAX).iter().map(|o| o.amount).collect::<Vec<_>>(), [19_900]);
}
