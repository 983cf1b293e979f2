//! Records sent as JSON — to the ingest API of a real `canvas serve` on
//! 127.0.0.1:0, or in a `canvas plugin test` fixture — are read strictly:
//! a value of the wrong JSON type, an unknown key, an amount past the bound
//! are refused naming the record and the field (never a 500); while an
//! import stands interrupted the API answers 409 and cannot lift the guard;
//! and a plugin is given a positive spend for the largest amounts there are.

use std::path::Path;
use std::sync::Arc;

use canvas::calendar::parse_instant;
use canvas::registry::Registry;
use canvas::runtime::PluginEngine;
use canvas::serve::{self, ScaledClock, Service};
use canvas::store::Store;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::import_guard::{dataset, imported, killed_import, scene};
use crate::support::*;

const TOKEN: &str = "ingest-token";

struct Api {
    service: Service,
    base: String,
    client: reqwest::Client,
}

impl Api {
    /// The service on `store`, its touches (if any) to a file in `dir`.
    async fn start(store: Arc<Store>, dir: &Path) -> Api {
        let touches = dir.join("touches.jsonl");
        let config = config(&format!(
            "[serve]\ntoken = \"{TOKEN}\"\n[dispatch.channels.\"*\"]\nkind = \"file\"\npath = {:?}\n",
            touches.display().to_string()
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let clock = Arc::new(ScaledClock::new(parse_instant("2026-10-01T08:00:00+08:00").unwrap(), 1.0));
        let service = serve::start(canvas::app::App::new(config).unwrap(), store, clock, listener).await.unwrap();
        let base = format!("http://{}", service.addr);
        Api { service, base, client: reqwest::Client::new() }
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        let response =
            self.client.post(format!("{}{path}", self.base)).bearer_auth(TOKEN).body(body).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn details(answer: &Value) -> Vec<String> {
    answer["details"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect()
}

fn member(id: Value) -> Value {
    json!({ "member_id": id, "name": "会员", "level": 2, "joined_at": "2026-02-01T10:00:00+08:00",
            "store_id": "S01", "guide_id": "G0101" })
}

fn order(id: &str, amount: Value) -> Value {
    json!({ "order_id": id, "member_id": "M1", "placed_at": "2026-09-20T12:00:00+08:00", "amount": amount,
            "channel": "online", "category": "tops", "sku": "TP-1" })
}

fn empty_store(dir: &TempDir) -> Arc<Store> {
    Arc::new(Store::open(&dir.path().join("store")).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_refuses_values_of_the_wrong_json_type_naming_the_record_and_field() {
    let dir = TempDir::new().unwrap();
    let store = empty_store(&dir);
    let api = Api::start(store.clone(), dir.path()).await;
    let mut typo = member(json!("M5"));
    typo["emial"] = json!("a@b.c");
    let mut named_true = member(json!("M3"));
    named_true["name"] = json!(true);
    let mut level_list = member(json!("M4"));
    level_list["level"] = json!([2]);
    let body =
        json!([member(json!({"a": 1})), member(json!(12345)), named_true, level_list, typo, member(json!("M6"))]);
    let (status, answer) = api.post("/api/v1/members", body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        details(&answer),
        [
            "members record 1: field `member_id`: is an object, not a string",
            "members record 2: field `member_id`: is a number (`12345`), not a string",
            "members record 3: field `name`: is `true`, not a string",
            "members record 4: field `level`: is an array, not a number or a string",
            "members record 5: field `emial`: is not a field of members records (they are: member_id, name, level, \
             birthday, joined_at, wecom_added_at, store_id, guide_id, tz)",
        ]
    );
    assert!(store.dataset().unwrap().members.is_empty(), "all or nothing: the good record was not applied either");

    // NDJSON counts records, not lines: the blank line is no record.
    let ndjson = format!("{}\n\n{}\n{}\n", member(json!("M1")), member(json!("M2")), member(json!("M1")));
    let (status, answer) = api.post("/api/v1/members", ndjson).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(details(&answer), ["members record 3: field `member_id`: `M1` already appears in record 1"]);
    api.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_refuses_amounts_past_the_bound_with_400_and_takes_those_at_it() {
    let dir = TempDir::new().unwrap();
    let store = empty_store(&dir);
    let api = Api::start(store.clone(), dir.path()).await;
    assert_eq!(api.post("/api/v1/members", json!([member(json!("M1"))]).to_string()).await.0, StatusCode::OK);
    let body = json!([
        order("X1", json!(92_233_720_368_547_758_i64)),
        order("X2", json!("79228162514264337593543950336000")),
        order("X3", json!(-1)),
        order("X4", json!(0.005)),
        order("X5", json!(1e21)),
        order("X6", json!(false)),
    ]);
    let (status, answer) = api.post("/api/v1/orders", body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a refusal, not a 500: {answer}");
    assert_eq!(
        details(&answer),
        [
            "orders record 1: field `amount`: `92233720368547758` is over the largest amount, 100000000 yuan",
            "orders record 2: field `amount`: `79228162514264337593543950336000` is over the largest amount, \
             100000000 yuan",
            "orders record 3: field `amount`: `-1` is negative",
            "orders record 4: field `amount`: `0.005` has fractions of a fen",
            "orders record 5: field `amount`: `1e+21` has an exponent; write the amount out (e.g. 1000.00)",
            "orders record 6: field `amount`: is `false`, not a number or a string",
        ]
    );
    let (status, answer) = api.post("/api/v1/orders", "[{\"order_id\": \"X7\", \"amount\": 1e400}]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["details"][0].as_str().unwrap().starts_with("orders: the body is not a JSON array of objects"));

    // As many errors as a person reads, then how many more.
    let many: Vec<Value> = (0..500).map(|n| order(&format!("Z{n}"), json!("abc"))).collect();
    let (status, answer) = api.post("/api/v1/orders", json!(many).to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "refused, nothing was changed: 500 bad records");
    let listed = details(&answer);
    assert_eq!((listed.len(), listed.last().unwrap().as_str()), (51, "… and 450 more"));

    let at_bound = json!([order("Y1", json!(100_000_000)), order("Y2", json!("100000000.00"))]);
    let (status, answer) = api.post("/api/v1/orders", at_bound.to_string()).await;
    assert_eq!((status, answer["new"].as_u64()), (StatusCode::OK, Some(2)), "{answer}");
    assert!(store.dataset().unwrap().orders.iter().all(|o| o.amount == canvas::model::MAX_AMOUNT_FEN));
    api.service.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_an_import_stands_interrupted_ingest_and_runs_answer_409_and_cannot_lift_it() {
    let s = scene();
    let store_dir = s.work.path().join("store");
    imported(&store_dir, &s.a);
    let before = dataset(&store_dir).unwrap();
    killed_import(&store_dir, &s.b, "orders.csv: 20000 of");

    let store = Arc::new(Store::open(&store_dir).unwrap());
    // A strategy to run: with none, a run would not need the data.
    let engine = Arc::new(PluginEngine::new(Default::default()).unwrap());
    let installed = Registry::new(&store, &engine).install(
        "test",
        &std::fs::read(test_plugin("facts-echo")).unwrap(),
        &|_| Default::default(),
        0,
    );
    Registry::new(&store, &engine).set_enabled(&installed.unwrap().id, true, &Default::default(), 0).unwrap();
    let api = Api::start(store.clone(), s.work.path()).await;
    let newcomer = json!([member(json!("NEW1"))]).to_string();
    let (status, answer) = api.post("/api/v1/members", newcomer).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains("was interrupted") && error.contains("--discard-interrupted"), "{error}");
    let (status, answer) = api.post("/api/v1/runs", json!({ "at": "2026-10-01T10:00:00+08:00" }).to_string()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("runs are refused"), "{answer}");
    api.service.shutdown().await.unwrap();

    assert!(store.dataset().is_err(), "the ingest did not lift the guard");
    let discarded = store.discard_interrupted_import().unwrap().expect("an import to discard");
    assert!(discarded.restored > 0, "{discarded:?}");
    assert!(store.dataset().unwrap() == before, "the ingest wrote nothing, the discard restored the rest");
}

/// Two orders at the bound: the plugin's facts say 200,000,000 yuan, all of
/// it positive. The amounts that once summed to a negative spend are refused
/// by record and field before any plugin runs.
#[test]
fn a_plugin_is_given_a_positive_spend_for_two_orders_at_the_bound() {
    let dir = TempDir::new().unwrap();
    let fixture = dir.path().join("fixture.json");
    let write = |amounts: [Value; 2]| {
        let orders: Vec<Value> = amounts.into_iter().enumerate().map(|(i, a)| order(&format!("O{i}"), a)).collect();
        let body = json!({ "run_at": "2026-10-01T10:00:00+08:00", "members": [member(json!("M1"))], "orders": orders });
        std::fs::write(&fixture, body.to_string()).unwrap();
    };
    let run = || {
        canvas()
            .args(["plugin", "test", "--format", "json", "--input"])
            .arg(&fixture)
            .arg(test_plugin("facts-echo"))
            .output()
            .unwrap()
    };
    write([json!(100_000_000), json!("100000000.00")]);
    let output = run();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let outcome: Value = serde_json::from_slice(&output.stdout).unwrap();
    let variables = &outcome["touches"][0]["variables"];
    for fact in ["spend", "window_spend", "category_spend"] {
        assert_eq!(variables[fact], "20000000000", "{fact}: {variables}");
    }

    write([json!(92_233_720_368_547_758_i64), json!(92_233_720_368_547_758_i64)]);
    let refused = run();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("orders record 1: field `amount`: `92233720368547758` is over the largest amount"),
        "{stderr}"
    );
    assert!(stderr.contains("orders record 2: field `amount`"), "{stderr}");
}

#[test]
fn a_fixture_record_with_an_unknown_key_or_a_wrong_type_is_refused_by_record_and_field() {
    let dir = TempDir::new().unwrap();
    let fixture = dir.path().join("fixture.json");
    let mut typo = member(json!("M2"));
    typo["levle"] = json!(3);
    let body = json!({ "run_at": "2026-10-01T10:00:00+08:00", "members": [member(json!({"a": 1})), typo] });
    std::fs::write(&fixture, body.to_string()).unwrap();
    let output =
        canvas().args(["plugin", "test", "--input"]).arg(&fixture).arg(test_plugin("facts-echo")).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("members record 1: field `member_id`: is an object, not a string"), "{stderr}");
    assert!(stderr.contains("members record 2: field `levle`: is not a field of members records"), "{stderr}");
}
