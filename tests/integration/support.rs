//! Fixtures: plugin paths, hand-written CSV data sets, and a simulation helper.

use std::path::{Path, PathBuf};

use canvas::config::CanvasConfig;
use canvas::simulate::{simulate, SimulateOptions, SimulationResult};
use chrono::NaiveDate;
use serde_json::Value;
use tempfile::TempDir;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent").to_path_buf()
}

fn built(folder: &str, name: &str) -> PathBuf {
    let path = repo_root().join("target").join(folder).join(format!("{name}.wasm"));
    assert!(path.exists(), "{} is missing: run `make test`, which builds the plugins first", path.display());
    path
}

/// A strategy plugin `make demo` ships.
pub fn plugin(name: &str) -> PathBuf {
    built("plugins", name)
}

/// The Python or JavaScript twin of a Rust strategy (`language`: python, js).
pub fn twin_plugin(language: &str, name: &str) -> PathBuf {
    built(&format!("polyglot/{language}"), name)
}

/// A config whose compile cache is shared by the tests, so each Python or
/// JavaScript component compiles once per `make test`, not once per test.
pub fn cached_config() -> CanvasConfig {
    let cache = repo_root().join("target").join("compile-cache");
    config(&format!("compile_cache = {:?}", cache.display().to_string()))
}

/// `canvas gen`: `members` generated members over 12 months with `seed`, into `out`.
pub fn generate(out: &Path, members: u32, seed: u32) -> PathBuf {
    let (members, seed) = (members.to_string(), seed.to_string());
    let made =
        canvas().args(["gen", "--members", &members, "--months", "12", "--seed", &seed, "--out"]).arg(out).output();
    let made = made.unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    out.to_path_buf()
}

/// `canvas import` of the folder `data` into the store at `store`, which must succeed.
pub fn import_into(store: &Path, data: &Path) {
    let output = canvas().args(["import", "--data"]).arg(data).arg("--store").arg(store).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// The `canvas` binary this test build made.
pub fn canvas() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_canvas"))
}

/// The Rust strategy plugins shipped with the host (target/plugins).
pub const SHIPPED_STRATEGIES: [&str; 9] = [
    "birthday-tiered",
    "first-purchase-nudge",
    "second-purchase-nudge",
    "dormant-recall",
    "category-recommendation",
    "group-buy-referral",
    "coupon-reminder",
    "browse-abandon",
    "out-of-stock-recovery",
];

/// A misbehaving plugin from plugins/testing.
pub fn test_plugin(name: &str) -> PathBuf {
    built("test-plugins", name)
}

/// A temp folder holding copies of these plugin files.
pub fn plugin_dir(plugins: &[PathBuf]) -> TempDir {
    let dir = TempDir::new().unwrap();
    for p in plugins {
        std::fs::copy(p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

pub const MEMBERS_HEADER: &str = "member_id,name,level,birthday,joined_at,wecom_added_at,store_id,guide_id,tz";
pub const ORDERS_HEADER: &str = "order_id,member_id,placed_at,amount,channel,category,sku";
pub const EVENTS_HEADER: &str = "event_id,member_id,kind,at,attrs";
pub const PRODUCTS_HEADER: &str = "sku,name,category,price,launched_at,tags";
pub const GUIDES_HEADER: &str = "guide_id,store_id,name,status,left_at,daily_task_capacity";

/// A small data set written row by row.
#[derive(Default, Clone)]
pub struct Data {
    members: Vec<String>,
    orders: Vec<String>,
    events: Vec<String>,
    products: Vec<String>,
    guides: Vec<String>,
}

impl Data {
    pub fn new() -> Self {
        Data::default()
    }

    /// A member who joined on 1 January 2025, and added the brand on WeCom then.
    pub fn member(mut self, id: &str, level: u8, birthday: &str) -> Self {
        let joined = "2025-01-01T10:00:00+08:00";
        self.members.push(format!("{id},会员{id},{level},{birthday},{joined},{joined},S01,G0101,"));
        self
    }

    /// A member who joined at `joined_at`, and added the brand on WeCom then.
    pub fn member_joined(mut self, id: &str, birthday: &str, joined_at: &str) -> Self {
        self.members.push(format!("{id},会员{id},1,{birthday},{joined_at},{joined_at},S01,G0101,"));
        self
    }

    pub fn order(mut self, member: &str, placed_at: &str) -> Self {
        let id = format!("O{}", self.orders.len() + 1);
        self.orders.push(format!("{id},{member},{placed_at},199.00,store,dress,DR-1"));
        self
    }

    pub fn raw_member(mut self, line: &str) -> Self {
        self.members.push(line.to_string());
        self
    }

    pub fn raw_order(mut self, line: &str) -> Self {
        self.orders.push(line.to_string());
        self
    }

    pub fn raw_product(mut self, line: &str) -> Self {
        self.products.push(line.to_string());
        self
    }

    pub fn raw_event(mut self, line: &str) -> Self {
        self.events.push(line.to_string());
        self
    }

    /// A row of guides.csv; with none, the file is not written (it is optional).
    pub fn raw_guide(mut self, line: &str) -> Self {
        self.guides.push(line.to_string());
        self
    }

    pub fn write_to(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let write = |name: &str, header: &str, rows: &[String]| {
            let mut text = format!("{header}\n");
            for row in rows {
                text.push_str(row);
                text.push('\n');
            }
            std::fs::write(dir.join(name), text).unwrap();
        };
        write("members.csv", MEMBERS_HEADER, &self.members);
        write("orders.csv", ORDERS_HEADER, &self.orders);
        write("events.csv", EVENTS_HEADER, &self.events);
        let mut products = self.products.clone();
        products.push("DR-1,Dress,dress,199,2025-06-01T00:00:00+08:00,hot;group_buy".into());
        write("products.csv", PRODUCTS_HEADER, &products);
        if !self.guides.is_empty() {
            write("guides.csv", GUIDES_HEADER, &self.guides);
        }
    }

    pub fn write(&self) -> TempDir {
        let dir = TempDir::new().unwrap();
        self.write_to(dir.path());
        dir
    }
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// What a simulation wrote.
pub struct Simulated {
    pub result: SimulationResult,
    pub decisions: Vec<Value>,
    pub runs: Vec<Value>,
    pub out: TempDir,
}

impl Simulated {
    /// (date, member) of each decision of a strategy.
    pub fn decided(&self, strategy: &str) -> Vec<(String, String)> {
        self.decisions
            .iter()
            .filter(|d| d["strategy"] == strategy)
            .map(|d| (d["date"].as_str().unwrap().to_string(), d["member_id"].as_str().unwrap().to_string()))
            .collect()
    }

    /// The failed runs' errors of a strategy.
    pub fn errors(&self, strategy: &str) -> Vec<String> {
        self.runs
            .iter()
            .filter(|r| r["strategy"] == strategy && r["status"] == "failed")
            .map(|r| r["error"].as_str().unwrap().to_string())
            .collect()
    }
}

pub fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}: {line}", path.display())))
        .collect()
}

/// Simulates `from..=to` over `data` with these plugins and config.
pub fn simulate_with(data: &Path, plugins: &[PathBuf], from: &str, to: &str, config: CanvasConfig) -> Simulated {
    let plugin_folder = plugin_dir(plugins);
    let out = TempDir::new().unwrap();
    let options = SimulateOptions {
        data: data.to_path_buf(),
        from: date(from),
        to: date(to),
        out: out.path().to_path_buf(),
        plugins: plugin_folder.path().to_path_buf(),
        strategies: None,
        config,
    };
    let result = simulate(&options, &mut |_, _| {}).expect("simulation runs");
    let decisions = read_jsonl(&result.decisions_file);
    let runs = read_jsonl(&result.runs_file);
    Simulated { result, decisions, runs, out }
}

pub fn config(toml: &str) -> CanvasConfig {
    CanvasConfig::parse(toml).expect("test config parses")
}
