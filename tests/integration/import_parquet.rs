//! `canvas import` of Parquet files as a warehouse exports them — written
//! here by DuckDB (the pinned one `make duckdb` installs), with the types it
//! gives each column (timestamps with a time zone, dates, integers, doubles,
//! text), read by column name under the CSV contract's rules.

use std::path::Path;
use std::process::Output;

use canvas::store::Store;
use tempfile::TempDir;

use crate::support::*;

/// Runs DuckDB SQL in `dir` (relative paths resolve there).
fn duckdb(dir: &Path, sql: &str) {
    let python = repo_root().join("target/tools/python/bin/python");
    let script = "import duckdb, sys\nduckdb.connect().execute(sys.argv[1])";
    let out = std::process::Command::new(python).arg("-c").arg(script).arg(sql).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "duckdb (run `make duckdb`): {}", String::from_utf8_lossy(&out.stderr));
}

fn import(data: &Path, store: &Path) -> Output {
    canvas().args(["import", "--data"]).arg(data).arg("--store").arg(store).output().unwrap()
}

fn said(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn the_sample_data_exported_as_parquet_imports_as_the_csv_files_do() {
    let dir = TempDir::new().unwrap();
    let parquet = dir.path().join("parquet");
    std::fs::create_dir(&parquet).unwrap();
    let sample = repo_root().join("sample-data");
    for kind in ["members", "orders", "events", "products", "guides"] {
        // Ids stay text, as the warehouse keeps them; the rest as DuckDB reads it.
        let csv = sample.join(format!("{kind}.csv"));
        let header = std::fs::read_to_string(&csv).unwrap().lines().next().unwrap().to_string();
        let ids = ["member_id", "guide_id", "store_id", "sku", "order_id", "event_id"];
        let text: Vec<String> =
            header.split(',').filter(|c| ids.contains(c)).map(|c| format!("'{c}': 'VARCHAR'")).collect();
        duckdb(
            &parquet,
            &format!(
                "COPY (SELECT * FROM read_csv('{}', types={{{}}})) TO '{kind}.parquet' (FORMAT parquet, COMPRESSION zstd)",
                csv.display(),
                text.join(", ")
            ),
        );
    }
    let (from_csv, from_parquet) = (dir.path().join("csv-store"), dir.path().join("parquet-store"));
    let by_csv = import(&sample, &from_csv);
    assert!(by_csv.status.success(), "{}", said(&by_csv));
    let by_parquet = import(&parquet, &from_parquet);
    assert!(by_parquet.status.success(), "{}", said(&by_parquet));

    let data = |store: &Path| Store::open(store).unwrap().dataset().unwrap();
    let (csv, parquet) = (data(&from_csv), data(&from_parquet));
    assert!(csv.members.len() > 1000 && csv.events.len() > 1000, "the sample data");
    assert!(csv.members.iter().any(|m| m.birthday.is_some()) && csv.orders.iter().any(|o| o.amount % 100 != 0));
    assert_eq!(csv.members, parquet.members);
    assert_eq!(csv.orders, parquet.orders);
    assert_eq!(csv.events, parquet.events);
    assert_eq!(csv.products, parquet.products);
    assert_eq!(csv, parquet);
}

#[test]
fn a_bad_parquet_value_is_refused_at_its_file_row_and_column_and_nothing_is_written() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    duckdb(
        &data,
        "COPY (SELECT 'M1' AS member_id, 'Li' AS name, 2 AS level, DATE '1990-05-01' AS birthday, \
         TIMESTAMPTZ '2025-01-01 10:00:00+08' AS joined_at, NULL::TIMESTAMPTZ AS wecom_added_at, 'S1' AS store_id, \
         'G1' AS guide_id, NULL AS tz, 'ignored' AS extra) TO 'members.parquet' (FORMAT parquet); \
         COPY (SELECT * FROM (VALUES ('O1', 'M1', TIMESTAMPTZ '2026-03-01 12:00:00+08', 99.5::DECIMAL(12,2)), \
         ('O2', 'M1', TIMESTAMPTZ '2026-03-02 12:00:00+08', -5.0::DECIMAL(12,2))) \
         t(order_id, member_id, placed_at, amount), (SELECT 'online' AS channel, 'tops' AS category, 'S' AS sku)) \
         TO 'orders.parquet' (FORMAT parquet)",
    );
    let store = dir.path().join("store");
    let refused = import(&data, &store);
    assert_eq!(refused.status.code(), Some(1), "{}", said(&refused));
    assert!(said(&refused).contains("orders.parquet row 2: column `amount`:"), "{}", said(&refused));
    assert!(!said(&refused).contains("row 1"), "{}", said(&refused));
    assert!(Store::open(&store).map(|s| s.dataset().unwrap().members.is_empty()).unwrap_or(true), "nothing written");

    // A timestamp without a time zone: which zone it meant is not in the file.
    duckdb(
        &data,
        "COPY (SELECT 'O1' AS order_id, 'M1' AS member_id, TIMESTAMP '2026-03-01 12:00:00' AS placed_at, \
         99.5 AS amount, 'online' AS channel, 'tops' AS category, 'S' AS sku) TO 'orders.parquet' (FORMAT parquet)",
    );
    let refused = import(&data, &store);
    assert!(
        said(&refused).contains("orders.parquet: column `placed_at`: is a timestamp without a time zone"),
        "{}",
        said(&refused)
    );

    // A file that lacks a column, and a kind given twice.
    duckdb(&data, "COPY (SELECT 'O1' AS order_id, 'M1' AS member_id) TO 'orders.parquet' (FORMAT parquet)");
    std::fs::write(data.join("members.csv"), "member_id\n").unwrap();
    let refused = said(&import(&data, &store));
    assert!(refused.contains("orders.parquet: missing columns `placed_at`, `amount`"), "{refused}");
    assert!(refused.contains("members.csv: and members.parquet are both here: keep one of them"), "{refused}");

    // The good orders alone import, and the extra column is ignored.
    std::fs::remove_file(data.join("members.csv")).unwrap();
    duckdb(
        &data,
        "COPY (SELECT 'O1' AS order_id, 'M1' AS member_id, TIMESTAMPTZ '2026-03-01 12:00:00+08' AS placed_at, \
         99.5::DECIMAL(12,2) AS amount, 'online' AS channel, 'tops' AS category, 'S' AS sku) TO 'orders.parquet' (FORMAT parquet)",
    );
    let imported = import(&data, &store);
    assert!(imported.status.success(), "{}", said(&imported));
    let data = Store::open(&store).unwrap().dataset().unwrap();
    assert_eq!((data.members[0].level, data.orders[0].amount), (2, 9950));
    assert_eq!(data.orders[0].placed_at, canvas::calendar::parse_instant("2026-03-01T12:00:00+08:00").unwrap());
}
