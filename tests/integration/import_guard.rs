//! A killed import, as an attacker killed one: the real `canvas import`
//! binary SIGKILLed mid-way through a data set of 150,000 rows. Until that
//! same import completes it or `canvas import --discard-interrupted` rolls
//! it back, runs are refused and so is an import of other data (which once
//! lifted the guard and let runs use half-imported orders); the discard
//! puts the store back exactly as it was.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use canvas::model::DataSet;
use canvas::store::{ImportInterrupted, Store};
use tempfile::TempDir;

use crate::support::*;

/// Three generated data sets of one shape: `a` is in the store, `b` (the
/// same ids, other values, and more) is the import that gets killed, `c`
/// is other data again.
pub struct Scene {
    pub work: TempDir,
    pub a: PathBuf,
    pub b: PathBuf,
    pub c: PathBuf,
}

pub fn scene() -> Scene {
    let work = TempDir::new().unwrap();
    let data = |name: &str, members, seed| generate(&work.path().join(name), members, seed);
    let (a, b, c) = (data("a", 20000, 7), data("b", 21000, 8), data("c", 3000, 9));
    Scene { work, a, b, c }
}

pub fn run_import(store: &Path, data: &Path) -> Output {
    canvas().args(["import", "--data"]).arg(data).arg("--store").arg(store).output().unwrap()
}

pub fn imported(store: &Path, data: &Path) -> String {
    let output = run_import(store, data);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Starts `canvas import` of `data` and SIGKILLs it as soon as its progress
/// on stderr starts with `after` (a batch of rows written), as an attacker
/// killed it. Panics if it finished first.
pub fn killed_import(store: &Path, data: &Path, after: &str) {
    let mut child = canvas()
        .args(["import", "--data"])
        .arg(data)
        .arg("--store")
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let reached = line.starts_with(after);
        seen.push(line);
        if reached {
            child.kill().unwrap();
            break;
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "the import was killed mid-way, not finished: {seen:#?}");
}

pub fn dataset(store: &Path) -> anyhow::Result<DataSet> {
    Store::open(store).unwrap().dataset()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Three kill points — after the members, after a batch of orders, after
/// two batches of events — each on a store holding data set `a`. A batch is
/// on disk once the next one starts, so each leaves records to roll back.
#[test]
fn a_killed_import_holds_runs_and_other_imports_until_discarded_which_restores_the_store_exactly() {
    let s = scene();
    let b_folder = std::fs::canonicalize(&s.b).unwrap().display().to_string();
    for (n, after) in ["members.csv: 21000 of", "orders.csv: 20000 of", "events.csv: 40000 of"].iter().enumerate() {
        let store = s.work.path().join(format!("store-{n}"));
        imported(&store, &s.a);
        let before = dataset(&store).unwrap();
        killed_import(&store, &s.b, after);

        let refused = dataset(&store).expect_err("runs are refused");
        let interrupted = refused.downcast_ref::<ImportInterrupted>().expect("an ImportInterrupted");
        assert_eq!(interrupted.interrupted.as_ref().unwrap().records[0], 21_000, "it says which import");
        assert!(refused.to_string().contains(&b_folder), "{refused}");
        let run = canvas()
            .args(["run", "--at", "2026-10-01T10:00:00+08:00", "--no-dispatch", "--strategies", "dormant-recall"])
            .arg("--plugins")
            .arg(repo_root().join("target/plugins"))
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1), "{}", text(&run));
        assert!(text(&run).contains("runs are refused"), "{}", text(&run));

        // Neither other data nor the data the store held before lifts it.
        for other in [&s.c, &s.a] {
            let output = run_import(&store, other);
            assert_eq!(output.status.code(), Some(1), "{}", text(&output));
            assert!(text(&output).contains("is other data and is refused"), "{}", text(&output));
        }
        assert!(dataset(&store).is_err(), "after {after}: still held");

        let discard = canvas().args(["import", "--discard-interrupted", "--store"]).arg(&store).output().unwrap();
        let said = text(&discard);
        assert!(discard.status.success(), "{said}");
        assert!(said.contains(&format!("discarded the import of the files in {b_folder}")), "{said}");
        assert!(said.contains("records it had changed got their earlier values back"), "{said}");
        assert!(
            !said.contains("rolled back: 0 pages of records it had changed"),
            "after {after}, something was rolled back: {said}"
        );
        assert!(dataset(&store).unwrap() == before, "after {after}: the store holds exactly what it held before");

        let again = canvas().args(["import", "--discard-interrupted", "--store"]).arg(&store).output().unwrap();
        assert!(text(&again).contains("nothing to discard"), "{}", text(&again));
        imported(&store, &s.c);
    }
}

/// Killed after a batch of events; running the same import again goes on
/// from there and ends with the store, and the counts, an uninterrupted
/// import gives.
#[test]
fn a_killed_import_is_completed_by_the_same_import_run_again() {
    let s = scene();
    let reference = s.work.path().join("reference");
    imported(&reference, &s.a);
    let expected_counts = imported(&reference, &s.b);

    let store = s.work.path().join("store");
    imported(&store, &s.a);
    killed_import(&store, &s.b, "events.csv: 20000 of");
    let completed = run_import(&store, &s.b);
    assert!(completed.status.success(), "{}", text(&completed));
    assert!(String::from_utf8_lossy(&completed.stderr).contains("was interrupted; this import is checked against it"));
    let counts = String::from_utf8_lossy(&completed.stdout).replace(&store.display().to_string(), "STORE");
    assert_eq!(
        counts,
        expected_counts.replace(&reference.display().to_string(), "STORE"),
        "counted as if never killed"
    );
    assert!(dataset(&store).unwrap() == dataset(&reference).unwrap(), "the same data as an uninterrupted import");
}
