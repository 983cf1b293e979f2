//! The CSV contract read strictly, with files written as an attacker wrote
//! them: rows wider or narrower than the header, a header naming a column
//! twice, a quote never closed, values far over any sane length, amounts in
//! exponent notation or past the bound — each refused at its file, line and
//! column by its real cause, nothing written, and never a panic.

use std::path::Path;

use canvas::import::columns::{MAX_ATTRS_BYTES, MAX_ID_BYTES, MAX_NAME_BYTES};
use canvas::import::{read_dir, RecordKind, MAX_ROW_BYTES};
use canvas::model::MAX_AMOUNT_FEN;
use tempfile::TempDir;

use crate::support::*;

const JOINED: &str = "2025-01-01T10:00:00+08:00";

/// A folder with these files (name, content).
fn folder(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn errors_of(dir: &Path) -> Vec<String> {
    read_dir(dir).expect_err("the import is refused").errors.iter().map(ToString::to_string).collect()
}

fn member_row(id: &str) -> String {
    format!("{id},会员{id},2,,{JOINED},,S01,G0101,")
}

#[test]
fn rows_wider_or_narrower_than_the_header_are_refused_by_their_line_and_field_count() {
    let members = format!(
        "{MEMBERS_HEADER}\n{}\n{},extra\nM3,会员M3,2,,{JOINED}\n{}\n",
        member_row("M1"),
        member_row("M2"),
        member_row("M4")
    );
    let dir = folder(&[("members.csv", &members)]);
    assert_eq!(
        errors_of(dir.path()),
        [
            "members.csv:3: has 10 fields, the header has 9: is a value with a comma in it not quoted?",
            // Not "column 6 `wecom_added_at`" or "column 7 `store_id`: is empty".
            "members.csv:4: has 5 fields, the header has 9",
        ]
    );
}

#[test]
fn a_header_that_names_a_column_twice_is_refused_at_the_second() {
    let orders = format!("{ORDERS_HEADER},amount\nO1,M1,{JOINED},10,store,dress,DR-1,99999\n");
    let dir = folder(&[("members.csv", &format!("{MEMBERS_HEADER}\n{}\n", member_row("M1"))), ("orders.csv", &orders)]);
    assert_eq!(
        errors_of(dir.path()),
        ["orders.csv:1: column 8 `amount`: repeats column 4 `amount`: a header names each column once"]
    );
}

#[test]
fn a_quote_never_closed_is_named_where_it_opens_not_blamed_on_another_column() {
    // It runs to the end of the file: the csv parser takes the rest as one value.
    for end in ["\n", ""] {
        let members = format!(
            "{MEMBERS_HEADER}\n{}\nM2,\"会员M2,2,,{JOINED},,S01,G0101,\n{}{end}",
            member_row("M1"),
            member_row("M3")
        );
        let errors = errors_of(folder(&[("members.csv", &members)]).path());
        assert_eq!(
            errors,
            ["members.csv:3: column 2 `name`: opens a quote that is never closed: the value runs to the end of the file"],
            "file ending {end:?}"
        );
    }
    // On the last line, without a line end: the row looks two fields short.
    let members = format!("{MEMBERS_HEADER}\n{}\nM2,\"会员M2,2,,{JOINED},,S01,G0101,", member_row("M1"));
    let errors = errors_of(folder(&[("members.csv", &members)]).path());
    assert_eq!(
        errors,
        ["members.csv:3: column 2 `name`: opens a quote that is never closed: the value runs to the end of the file"]
    );
    // Closed by a stray quote two lines further down.
    let members = format!(
        "{MEMBERS_HEADER}\n{}\nM2,\"会员M2,2,,{JOINED},,S01,G0101,\n{}\nM4,会员M4\",2,,{JOINED},,S01,G0101,\n",
        member_row("M1"),
        member_row("M3")
    );
    let errors = errors_of(folder(&[("members.csv", &members)]).path());
    assert_eq!(
        errors,
        ["members.csv:3: column 2 `name`: a quoted value runs from line 3 to line 5: is a closing quote missing? \
          (no value may span lines)"]
    );
}

#[test]
fn lines_are_counted_right_in_a_windows_file_with_a_byte_order_mark_and_blank_lines() {
    let members = format!(
        "\u{feff}{MEMBERS_HEADER}\r\n{}\r\n\r\n\r\n{}\r\nM9,会员M9,7,,{JOINED},,S01,G0101,\r\n",
        member_row("M1"),
        member_row("M2")
    );
    let errors = errors_of(folder(&[("members.csv", &members)]).path());
    assert_eq!(errors, ["members.csv:6: column 3 `level`: `7` is not a member level 1–4"]);
}

#[test]
fn values_over_their_columns_limit_are_refused_with_the_limit() {
    let long_id = "M".repeat(MAX_ID_BYTES + 1);
    let fits = "M".repeat(MAX_ID_BYTES);
    let members = format!(
        "{MEMBERS_HEADER}\n{}\nM2,{},1,,{JOINED},,S01,G0101,\n{long_id},x,1,,{JOINED},,S01,G0101,\nM4,x,1,,{JOINED},,S01,{},\n",
        member_row(&fits),
        "名".repeat(300_000),
        "G".repeat(65)
    );
    let events = format!("{EVENTS_HEADER}\nE1,{fits},visit,{JOINED},\"{{\"\"k\"\":\"\"{}\"\"}}\"\n", "v".repeat(5_000));
    let products = format!("{PRODUCTS_HEADER}\nDR-1,Dress,dress,199,{JOINED},hot;{}\n", "t".repeat(65));
    let dir = folder(&[("members.csv", &members), ("events.csv", &events), ("products.csv", &products)]);
    assert_eq!(
        errors_of(dir.path()),
        [
            format!("members.csv:3: column 2 `name`: is 900000 bytes long; the limit is {MAX_NAME_BYTES} bytes"),
            format!("members.csv:4: column 1 `member_id`: is 65 bytes long; the limit is {MAX_ID_BYTES} bytes"),
            "members.csv:5: column 8 `guide_id`: is 65 bytes long; the limit is 64 bytes".to_string(),
            format!("events.csv:2: column 5 `attrs`: is 5008 bytes long; the limit is {MAX_ATTRS_BYTES} bytes"),
            format!(
                "products.csv:2: column 6 `tags`: the tag `{}…` is 65 bytes long; the limit is 64 bytes",
                "t".repeat(64)
            ),
        ]
    );
}

/// A row is refused as its bytes pass 1 MiB, before the parser holds more
/// of it: a 300 MB name, or a quote that would swallow a large file.
#[test]
fn a_row_over_a_mebibyte_is_refused_as_it_is_read() {
    let mut members = format!("{MEMBERS_HEADER}\n{}\nM2,", member_row("M1"));
    members.push_str(&"X".repeat(MAX_ROW_BYTES as usize * 300));
    members.push_str(&format!(",1,,{JOINED},,S01,G0101,\n{}\n", member_row("M3")));
    assert_eq!(
        errors_of(folder(&[("members.csv", &members)]).path()),
        ["members.csv:3: the row starting here is over 1 MiB, the most a row may take (extra columns included)"]
    );
    let mut members = format!("{MEMBERS_HEADER}\n{}\nM2,\"会员M2,2,,{JOINED},,S01,G0101,\n", member_row("M1"));
    for n in 3..40_000 {
        members.push_str(&member_row(&format!("M{n}")));
        members.push('\n');
    }
    assert_eq!(
        errors_of(folder(&[("members.csv", &members)]).path()),
        ["members.csv:3: the row starting here is over 1 MiB, the most a row may take (extra columns included): \
          a quote opened on line 3 is never closed"]
    );
}

#[test]
fn a_control_character_in_a_value_is_refused_by_its_code_point() {
    let members = format!(
        "{MEMBERS_HEADER}\n{}\nM2\u{0},x,1,,{JOINED},,S01,G0101,\nM3,x\u{1b}[31m,1,,{JOINED},,S01,G0101,\n\
         M4,a\tb,1,,{JOINED},,S01,G0101,\n",
        member_row("M1")
    );
    assert_eq!(
        errors_of(folder(&[("members.csv", &members)]).path()),
        [
            "members.csv:3: column 1 `member_id`: holds the control character U+0000",
            "members.csv:4: column 2 `name`: holds the control character U+001B",
        ]
    );
}

/// A data file that never ends — a FIFO, a link to a device — is refused
/// instead of read forever.
#[test]
fn a_data_file_that_is_not_a_regular_file_is_refused() {
    let dir = TempDir::new().unwrap();
    std::os::unix::fs::symlink("/dev/urandom", dir.path().join("events.csv")).unwrap();
    std::fs::write(dir.path().join("members.csv"), format!("{MEMBERS_HEADER}\n{}\n", member_row("M1"))).unwrap();
    assert_eq!(errors_of(dir.path()), ["events.csv: is not a regular file"]);
}

#[test]
fn a_value_that_is_not_utf8_is_refused_at_its_line_and_column() {
    let mut members = format!("{MEMBERS_HEADER}\n{}\nM2,", member_row("M1")).into_bytes();
    members.extend_from_slice(b"\xff\xfe,1,,2025-01-01T10:00:00+08:00,,S01,G0101,\n");
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("members.csv"), members).unwrap();
    assert_eq!(
        errors_of(dir.path()),
        ["members.csv:3: column 2 `name`: is not valid UTF-8 (the files are read as UTF-8)"]
    );
}

/// The amounts that once imported silently (`1e3`), wrapped a sum
/// (`92233720368547758` yuan) or panicked the importer with exit code 101
/// (past the decimal type's range): refused by the real binary, by line and
/// column, with exit code 1; amounts at the bound import.
#[test]
fn amounts_past_the_bound_or_with_an_exponent_are_refused_by_the_command_without_a_panic() {
    let orders = format!(
        "{ORDERS_HEADER}\nO1,M1,{JOINED},1e3,store,dress,DR-1\nO2,M1,{JOINED},92233720368547758,store,dress,DR-1\n\
         O3,M1,{JOINED},79228162514264337593543950336000,store,dress,DR-1\nO4,M1,{JOINED},-5,store,dress,DR-1\n\
         O5,M1,{JOINED},100000000.01,store,dress,DR-1\nO6,M1,{JOINED},100000000.00,store,dress,DR-1\n"
    );
    let products = format!("{PRODUCTS_HEADER}\nDR-1,Dress,dress,1E30,{JOINED},\n");
    let members = format!("{MEMBERS_HEADER}\n{}\n", member_row("M1"));
    let dir = folder(&[("members.csv", &members), ("orders.csv", &orders), ("products.csv", &products)]);
    let store = TempDir::new().unwrap();
    let import =
        |data: &Path| canvas().args(["import", "--data"]).arg(data).arg("--store").arg(store.path()).output().unwrap();
    let refused = import(dir.path());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    for expected in [
        "orders.csv:2: column 4 `amount`: `1e3` has an exponent",
        "orders.csv:3: column 4 `amount`: `92233720368547758` is over the largest amount, 100000000 yuan",
        "orders.csv:4: column 4 `amount`: `79228162514264337593543950336000` is over the largest amount",
        "orders.csv:5: column 4 `amount`: `-5` is negative",
        "orders.csv:6: column 4 `amount`: `100000000.01` is over the largest amount",
        "products.csv:2: column 4 `price`: `1E30` has an exponent",
        "import refused, nothing was changed: 6 bad rows",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in {stderr}");
    }
    let at_the_bound = format!("{ORDERS_HEADER}\nO6,M1,{JOINED},100000000.00,store,dress,DR-1\n");
    let dir = folder(&[("members.csv", &members), ("orders.csv", &at_the_bound)]);
    let imported = import(dir.path());
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let data = canvas::store::Store::open(store.path()).unwrap().dataset().unwrap();
    assert_eq!(data.orders[0].amount, MAX_AMOUNT_FEN);
}

/// Every column's limit is in the README's limits table, so the documented
/// contract cannot drift from the one enforced.
#[test]
fn the_readme_lists_every_columns_limit() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme.split("### `canvas import`").nth(1).expect("the CSV contract section");
    let section = section.split("\n### ").next().unwrap();
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with('|')).collect();
    for kind in RecordKind::ALL {
        for column in kind.columns() {
            let limit = format!(
                "{} bytes",
                column
                    .max_bytes
                    .to_string()
                    .as_bytes()
                    .rchunks(3)
                    .rev()
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let name = format!("`{}`", column.name);
            assert!(
                rows.iter().any(|row| row.contains(&limit) && row.contains(&name)),
                "the README's limits table has no row giving {name} of {} {limit}",
                kind.file_name()
            );
        }
    }
    assert!(section.contains("100,000,000.00 yuan"), "the amount bound is documented");
}
