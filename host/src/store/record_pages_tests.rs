//! Pages of records written, merged into and split as imports come; an
//! older store's records moved into pages.

use std::collections::BTreeMap;

use super::*;

fn store(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("store")).unwrap()
}

/// Merges `rows` (records of an id and a value) into the kind's pages in one batch, as an
/// ingest does: the counts.
fn merge(store: &Store, rows: &[(String, String)]) -> ImportCounts {
    let mut ids: Vec<(&str, usize)> = rows.iter().enumerate().map(|(i, (id, _))| (id.as_str(), i)).collect();
    ids.sort_unstable();
    let mut sink = PageSink::new(store, false);
    let body = |i: usize| row(&rows[i].0, &rows[i]);
    let counts = store.merge_rows(ORDER, &ids, &body, usize::MAX, &mut sink, &mut |_, _| Ok(())).unwrap();
    store.records.apply_batch(sink.take().1).unwrap();
    counts
}

/// Every page of the kind: its key, and its rows' ids and values. Checks
/// what a reader relies on: each page starts at its key, holds from
/// page_rows up to twice that less one (all of them when the kind has
/// fewer), and the pages' ids ascend.
fn pages(store: &Store) -> Vec<(String, Vec<(String, String)>)> {
    let mut pages = Vec::new();
    for pair in store.records.scan_prefix(ORDER) {
        let (key, value) = pair.unwrap();
        let page = Page::decode_records(&value).unwrap();
        let rows: Vec<(String, String)> = (0..page.len())
            .map(|i| {
                let (id, record) = split_row(page.body(i).unwrap()).unwrap();
                let (record_id, value) = postcard::from_bytes::<(String, String)>(record).unwrap();
                assert_eq!(id, record_id);
                (record_id, value)
            })
            .collect();
        let key = String::from_utf8(key[ORDER.len()..].to_vec()).unwrap();
        assert_eq!(rows[0].0, key, "a page starts at its key");
        assert!(rows.len() < 2 * page_rows(ORDER), "a page of {} rows", rows.len());
        pages.push((key, rows));
    }
    let ids: Vec<&String> = pages.iter().flat_map(|(_, rows)| rows.iter().map(|(id, _)| id)).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascend across pages");
    if pages.len() > 1 {
        assert!(pages.iter().all(|(_, rows)| rows.len() >= page_rows(ORDER) / 2), "no sliver pages");
    }
    pages
}

fn all_rows(store: &Store) -> BTreeMap<String, String> {
    pages(store).into_iter().flat_map(|(_, rows)| rows).collect()
}

fn rows(ids: impl IntoIterator<Item = u32>, value: &str) -> Vec<(String, String)> {
    ids.into_iter().map(|n| (format!("O{n:05}"), format!("{value} {n}"))).collect()
}

#[test]
fn imports_merge_into_pages_that_split_and_start_earlier_as_rows_come() {
    let dir = tempfile::TempDir::new().unwrap();
    let store = store(&dir);
    let mut expected = BTreeMap::new();

    // The first import, out of order and with an id twice: the last wins.
    let n = page_rows(ORDER) as u32;
    let mut first = rows((1000..1000 + 4 * n).rev(), "first");
    first.push(("O01500".into(), "again".into()));
    let counts = merge(&store, &first);
    let read = u64::from(4 * n + 1);
    assert_eq!((counts.read, counts.new, counts.changed, counts.unchanged), (read, read, 0, 0));
    expected.extend(first);
    assert_eq!(all_rows(&store), expected);
    assert!(pages(&store).len() >= 2);

    // Then: rows before the first page, after the last, twice a page into
    // one page's range (it splits), some changed, some as they were.
    let mut second = rows(0..10, "before");
    second.extend(rows(20000..20003, "after"));
    second.extend((0..2 * n).map(|n| (format!("O01234-{n:04}"), format!("inside {n}"))));
    second.extend(rows([1100, 1101], "changed"));
    second.extend(rows([1102, 1103, 1104], "first"));
    let counts = merge(&store, &second);
    let read = u64::from(18 + 2 * n);
    assert_eq!((counts.read, counts.new, counts.changed, counts.unchanged), (read, read - 5, 2, 3));
    expected.extend(second);
    assert_eq!(all_rows(&store), expected);

    // The same again changes nothing; every row is found by its id.
    let unchanged: Vec<(String, String)> = expected.clone().into_iter().collect();
    let counts = merge(&store, &unchanged);
    assert_eq!(counts.unchanged, expected.len() as u64);
    assert_eq!(all_rows(&store), expected);
    let mut finder = RowFinder::default();
    for (id, value) in &expected {
        let found = finder.find(&store, ORDER, id).unwrap().expect(id);
        assert_eq!(found, row(id, &(id, value)));
    }
    for missing in ["O", "O00999x", "O99999", "A", "Z"] {
        assert_eq!(finder.find(&store, ORDER, missing).unwrap(), None, "{missing}");
    }
}

/// An earlier canvas's `records` tree, one record per key, holding an
/// import it was interrupted writing: one record changed, one added.
#[test]
fn an_older_stores_records_move_into_pages_when_opened_as_they_were_before_an_interrupted_import() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("store");
    let mut expected: BTreeMap<String, String> = rows(0..5000, "old").into_iter().collect();
    {
        let db = sled::open(&path).unwrap();
        let earlier = db.open_tree(EARLIER_RECORDS_TREE).unwrap();
        let old = |id: &str, value: &str| postcard::to_stdvec(&(id, value)).unwrap();
        for (id, value) in &expected {
            earlier.insert(key(b"o/", id), old(id, value)).unwrap();
        }
        earlier.insert(b"meta/records-stamp", &7u64.to_be_bytes()).unwrap();
        earlier.insert(b"E/\0\0\0\0\0\0\0\x01", b"a page of coupons".as_slice()).unwrap();
        // The interrupted import: O00003 changed, O99999 added; the undo log says so.
        earlier.insert(key(b"o/", "O00003"), old("O00003", "imported")).unwrap();
        earlier.insert(key(b"o/", "O99999"), old("O99999", "imported")).unwrap();
        earlier.insert(b"meta/import-in-progress", b"in progress".as_slice()).unwrap();
        let undo: UndoBatch =
            vec![(key(b"o/", "O00003"), Some(old("O00003", &expected["O00003"]))), (key(b"o/", "O99999"), None)];
        db.open_tree(super::super::import::UNDO_TREE)
            .unwrap()
            .insert(0u64.to_be_bytes(), postcard::to_stdvec(&undo).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(all_rows(&store), expected, "as before the interrupted import");
    assert!(
        !store.db.tree_names().iter().any(|name| name == EARLIER_RECORDS_TREE.as_bytes()),
        "the old tree is dropped"
    );
    assert!(store.records.get(b"meta/records-stamp").unwrap().is_some(), "other keys are copied");
    assert!(store.records.get(b"E/\0\0\0\0\0\0\0\x01").unwrap().is_some());
    assert!(store.interrupted_import().unwrap().is_some(), "the import still stands interrupted");
    assert!(store.undo.is_empty(), "its undo log is applied");
    drop(store);

    // Opened again, nothing moves; a merge into the moved pages reads back.
    let store = Store::open(&path).unwrap();
    store.discard_interrupted_import().unwrap().expect("it stood");
    let added = rows([99999], "new");
    merge(&store, &added);
    expected.extend(added);
    assert_eq!(all_rows(&store), expected);
}
