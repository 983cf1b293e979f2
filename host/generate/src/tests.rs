//! The generator's tests: the same options give identical files, and the rows of the five files
//! hold together (references, time order, the CSV headers the importer expects).
//!
//! They read the files back with a CSV reader and a JSON parser rather than through the
//! generator's own types, so they check what an importer would see.

use super::*;
use chrono::{DateTime, FixedOffset};
use std::collections::{HashMap, HashSet};

fn options() -> GenerateOptions {
    GenerateOptions { members: 500, months: 8, seed: 11, end: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap() }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("canvas-generate-{}-{nanos}-{name}", std::process::id()))
}

fn read(dir: &Path, file: &str, header: &str) -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_path(dir.join(file)).unwrap();
    let header_row: Vec<&str> = reader.headers().unwrap().iter().collect();
    assert_eq!(header_row.join(","), header);
    reader.records().map(Result::unwrap).collect()
}

fn instant(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn same_options_give_identical_files() {
    let (a, b) = (temp_dir("a"), temp_dir("b"));
    generate(&options(), &a).unwrap();
    generate(&options(), &b).unwrap();
    for file in ["members.csv", "orders.csv", "events.csv", "products.csv", "guides.csv"] {
        assert!(std::fs::read(a.join(file)).unwrap() == std::fs::read(b.join(file)).unwrap(), "{file} differs");
    }
    std::fs::remove_dir_all(a).unwrap();
    std::fs::remove_dir_all(b).unwrap();
}

#[test]
fn rows_reference_existing_members_and_products_in_time() {
    let dir = temp_dir("refs");
    let summary = generate(&options(), &dir).unwrap();
    let members =
        read(&dir, "members.csv", "member_id,name,level,birthday,joined_at,wecom_added_at,store_id,guide_id,tz");
    let joined: HashMap<&str, _> = members.iter().map(|m| (&m[0], instant(&m[4]))).collect();
    for m in &members {
        assert!(("1"..="4").contains(&&m[2]) && m[7][1..3] == m[6][1..], "{m:?}");
        assert!(m[5].is_empty() || instant(&m[5]) >= joined[&m[0]], "{m:?}");
    }
    let products = read(&dir, "products.csv", "sku,name,category,price,launched_at,tags");
    let product: HashMap<&str, _> = products.iter().map(|p| (&p[0], (&p[2], instant(&p[4])))).collect();
    let name: HashMap<&str, &str> = products.iter().map(|p| (&p[0], &p[1])).collect();
    let store: HashMap<&str, &str> = members.iter().map(|m| (&m[0], &m[6])).collect();
    assert!(products.iter().any(|p| p[5].contains("group_buy")));

    let orders = read(&dir, "orders.csv", "order_id,member_id,placed_at,amount,channel,category,sku");
    let mut bought: HashMap<&str, Vec<DateTime<FixedOffset>>> = HashMap::new();
    for (o, next) in orders.iter().zip(orders.iter().skip(1)) {
        assert!(instant(&o[2]) <= instant(&next[2]), "out of order: {o:?} {next:?}");
    }
    for o in &orders {
        let (at, (category, launched)) = (instant(&o[2]), product[&o[6]]);
        assert!(at >= joined[&o[1]] && at >= launched && o[5] == *category, "{o:?}");
        assert!(["store", "online"].contains(&&o[4]) && o[3].split_once('.').unwrap().1.len() == 2, "{o:?}");
        bought.entry(&o[1]).or_default().push(at);
    }

    let events = read(&dir, "events.csv", "event_id,member_id,kind,at,attrs");
    let mut coupons = HashSet::new();
    let (mut deleted, mut unsubscribed) = (HashSet::new(), HashSet::new());
    let mut events = events;
    // In time order, so an add again or a resubscribe comes after what it follows.
    events.sort_by_key(|e| instant(&e[3]));
    for e in &events {
        let at = instant(&e[3]);
        assert!(at >= joined[&e[1]], "event before joining: {e:?}");
        let attrs: serde_json::Value = serde_json::from_str(&e[4]).unwrap_or_default();
        let coupon = (e[1].to_string(), attrs["coupon_id"].to_string());
        match &e[2] {
            "coupon_issued" => assert!(coupons.insert(coupon)),
            "coupon_redeemed" => assert!(coupons.contains(&coupon), "{e:?}"),
            "group_buy_joined" => {
                let referrer = attrs["referrer"].as_str().unwrap();
                assert!(referrer != &e[1] && bought[referrer].iter().any(|&t| t < at), "{e:?}");
                assert!(product.contains_key(attrs["sku"].as_str().unwrap()), "{e:?}");
            }
            "mini_program_visit" => assert!(attrs["page"].is_string(), "{e:?}"),
            // What the triggered strategies need: a launched product (with its name), and a
            // request in the member's own store for a size there is.
            "product_view" => {
                let sku = attrs["sku"].as_str().unwrap();
                assert!(product[sku].1 <= at && attrs["name"] == *name[sku], "{e:?}");
            }
            "out_of_stock_request" => {
                let sku = attrs["sku"].as_str().unwrap();
                assert!(product[sku].1 <= at && attrs["store_id"] == *store[&e[1]], "{e:?}");
                let size = attrs["size"].as_str().unwrap();
                assert!(["S", "M", "L", "XL", "XXL", "F"].contains(&size), "{e:?}");
                assert!(attrs["price_sensitive"].is_boolean(), "{e:?}");
            }
            "wecom_deleted" => assert!(e[4].is_empty(), "{e:?}"),
            // Only after a deletion, and with nothing to say; consent for SMS, or every channel.
            "wecom_added" => assert!(e[4].is_empty() && deleted.contains(&e[1]), "{e:?}"),
            "unsubscribed" | "resubscribed" => {
                assert!(e[4].is_empty() || attrs["channel"] == "sms", "{e:?}");
                assert!(e[2] == *"unsubscribed" || unsubscribed.contains(&e[1]), "{e:?}");
            }
            _ => panic!("an event kind the contract does not know: {e:?}"),
        }
        match &e[2] {
            "wecom_deleted" => drop(deleted.insert(e[1].to_string())),
            "unsubscribed" => drop(unsubscribed.insert(e[1].to_string())),
            _ => {}
        }
    }
    let guides = read(&dir, "guides.csv", "guide_id,store_id,name,status,left_at,daily_task_capacity");
    let (first, last) = (instant("2025-08-01T00:00:00+08:00"), instant("2026-04-01T00:00:00+08:00"));
    for g in &guides {
        assert!(g[0][1..3] == g[1][1..] && !g[2].is_empty(), "{g:?}");
        match &g[3] {
            "active" => assert!(g[4].is_empty(), "{g:?}"),
            "left" => assert!((first..last).contains(&instant(&g[4])), "left within the period: {g:?}"),
            _ => panic!("a status the contract does not know: {g:?}"),
        }
        assert!(g[5].is_empty() || (20..=50).contains(&g[5].parse::<u32>().unwrap()), "{g:?}");
    }
    let listed: HashSet<&str> = guides.iter().map(|g| &g[0]).collect();
    assert_eq!(listed.len(), guides.len(), "each guide once");
    assert!(members.iter().all(|m| listed.contains(&m[7])), "every member's guide is in guides.csv");
    let kinds = |kind: &str| events.iter().filter(|e| &e[2] == kind).count();
    assert!(kinds("product_view") > kinds("mini_program_visit"), "browsing is mostly product pages");
    let store_orders = orders.iter().filter(|o| &o[4] == "store").count();
    let requests = kinds("out_of_stock_request");
    assert!(
        requests > 0 && requests * 10 < store_orders,
        "a small share of store visits: {requests} of {store_orders}"
    );
    let rows = [members.len(), orders.len(), events.len(), products.len(), guides.len()].map(|n| n as u64);
    assert_eq!([summary.members, summary.orders, summary.events, summary.products, summary.guides], rows);
    std::fs::remove_dir_all(dir).unwrap();
}
