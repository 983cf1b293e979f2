//! The operator console in a real browser (issue 35): the real service
//! in-process on 127.0.0.1:0 over a store of a few hundred members with the
//! shipped plugins installed and enabled, a webhook that failed so dead
//! letters exist, a member whose touch was suppressed; then
//! `node tests/console/flows.mjs` drives Debian's headless Chromium through
//! the flows (playwright-core, pinned in tests/console/package-lock.json) and
//! writes the screenshots in docs/console/. Afterwards the store is checked
//! for what the browser did: the run after the benefit change used 30 yuan,
//! the refused configs left nothing, the dead letters were delivered, the
//! read-only token changed nothing.
//!
//! Prerequisites (`make test` installs both): `make chromium` and `npm ci`
//! in tests/console.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::receiver::{Mode, Receiver};
use crate::service::*;
use crate::support::*;

const READONLY_TOKEN: &str = "viewer-token-for-the-console-test";
/// A level-1 member with a March birthday: decided by the run after the change.
const THIRTY: &str = "M9001";
/// A level-1 member with a February birthday: decided (20 yuan) before it.
const TWENTY: &str = "M9002";
/// A February birthday, but the member deleted the brand on WeCom in January.
const SUPPRESSED: &str = "M9003";
/// A member whose name is HTML that would run if a page inserted it as HTML.
const HOSTILE: &str = "M9004";

/// Each shipped strategy's place in the life cycle, as `make console` sets
/// them, so the canvas (and its screenshot) shows the stages.
const STAGES: &str = "[strategies.first-purchase-nudge]\nstage = \"activation\"\n\
    [strategies.birthday-tiered]\nstage = \"retention\"\n\
    [strategies.dormant-recall]\nstage = \"retention\"\n\
    [strategies.second-purchase-nudge]\nstage = \"repurchase\"\n\
    [strategies.category-recommendation]\nstage = \"upsell\"\n\
    [strategies.group-buy-referral]\nstage = \"referral\"\n\
    [strategies.coupon-reminder]\nstage = \"service\"\n";

/// Chromium and playwright-core, or a panic saying how to get them.
fn prerequisites() -> (PathBuf, PathBuf) {
    let chromium = PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    assert!(
        chromium.exists(),
        "{} is missing: run `make chromium` (Debian's chromium and fonts-noto-cjk), or set CHROMIUM",
        chromium.display()
    );
    let folder = repo_root().join("tests").join("console");
    assert!(
        folder.join("node_modules").join("playwright-core").join("package.json").exists(),
        "{} has no node_modules/playwright-core: run `npm ci` in tests/console (`make console-deps`)",
        folder.display()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(node.is_ok_and(|o| o.status.success()), "`node` does not run: install Node.js 20 or later");
    (chromium, folder)
}

/// 300 members of every level with birthdays all year round, half of them
/// with orders, and the three members the flows look at.
fn brand() -> Data {
    let mut data = Data::new();
    for i in 1..=300u32 {
        let id = format!("M{i:04}");
        let birthday = format!("{}-{:02}-{:02}", 1970 + i % 30, i % 12 + 1, i % 28 + 1);
        data = data.member(&id, (i % 4 + 1) as u8, &birthday);
        if i % 2 == 0 {
            data = data.order(&id, &format!("2025-{:02}-{:02}T12:00:00+08:00", i % 12 + 1, i % 28 + 1));
        }
        if i % 6 == 0 {
            data = data.order(&id, &format!("2025-11-{:02}T15:30:00+08:00", i % 28 + 1));
        }
    }
    data.member(THIRTY, 1, "1992-03-08")
        .member(TWENTY, 1, "1991-02-10")
        .member(SUPPRESSED, 2, "1990-02-14")
        .raw_member(&format!(
            "{HOSTILE},<img src=x onerror=window.__pwned=2>,1,1990-05-05,2025-01-01T10:00:00+08:00,,S01,G0101,"
        ))
        .raw_event(&format!("E1,{SUPPRESSED},wecom_deleted,2026-01-15T12:00:00+08:00,"))
}

/// `node flows.mjs` against the service at `url`; its output, and whether it passed.
fn run_flows(folder: &Path, chromium: &Path, url: &str, failures: &Path) -> (bool, String) {
    let output = Command::new("node")
        .arg(folder.join("flows.mjs"))
        .current_dir(folder)
        .env("CANVAS_URL", url)
        .env("CANVAS_TOKEN", TOKEN)
        .env("CANVAS_READONLY_TOKEN", READONLY_TOKEN)
        .env("CHROMIUM", chromium)
        .env("SCREENSHOTS", repo_root().join("docs").join("console"))
        .env("FAILURES", failures)
        .env("MEMBER_SUPPRESSED", SUPPRESSED)
        .env("MEMBER_THIRTY", THIRTY)
        .env("MEMBER_HOSTILE", HOSTILE)
        .env("STRATEGY", "birthday-tiered")
        .env("SUPPRESSED_REASON", "deleted the brand on WeCom")
        .env("DRY_RUN_FROM", "2026-02-01")
        .env("DRY_RUN_TO", "2026-02-03")
        .env("RESULTS_FROM", "2026-01-15")
        .env("RESULTS_TO", "2026-03-01")
        .output()
        .expect("node runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// The birthday coupon's value (yuan) in a member's decisions.
async fn birthday_coupon(s: &Running, member: &str) -> Option<f64> {
    let (_, decisions) = s.get(&format!("/api/v1/members/{member}/decisions")).await;
    let decisions = decisions.as_array()?.clone();
    decisions.iter().find(|d| d["strategy"] == "birthday-tiered").and_then(|d| d["benefit"]["value"].as_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_runs_the_console_flows_in_a_real_browser() {
    let (chromium, folder) = prerequisites();
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &brand());
    install(&store, &SHIPPED_STRATEGIES.map(plugin));
    // WeCom touches go to a webhook that fails (dead letters); the rest to a file.
    let receiver = Receiver::start(Mode::Fail(503));
    let serve = format!("[serve.tokens.viewer]\ntoken = \"{READONLY_TOKEN}\"\nread_only = true\n");
    let webhook = format!(
        "[dispatch]\nmax_attempts = 2\nbackoff_initial_ms = 10\n[dispatch.channels.wecom]\nkind = \"webhook\"\nurl = \"{}\"\n{STAGES}",
        receiver.url
    );
    // Half an hour before the 1 March slot: the browser's run is forced, and
    // the scheduler's own 10:00 run does not come during the test.
    let s = start_at(service_config(&dir, &serve, &webhook), store, "2026-03-01T09:30:00+08:00", 1.0).await;

    // February's run: birthday coupons at the default 20 yuan, one suppressed.
    let (status, ran) = s.post("/api/v1/runs", json!({ "at": "2026-02-01T10:00:00+08:00" }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(birthday_coupon(&s, TWENTY).await, Some(20.0));
    let (_, decisions) = s.get(&format!("/api/v1/members/{SUPPRESSED}/decisions")).await;
    assert_eq!(decisions[0]["status"], "suppressed", "{decisions}");
    // Every February touch delivered (to the file) or dead (the webhook): none still trying.
    s.eventually("dead letters from the failing webhook, nothing pending", async |s: &Running| {
        let pending = s.get("/api/v1/outbox?state=pending").await.1.as_array().is_some_and(|p| p.is_empty());
        pending && s.get("/api/v1/dead-letters").await.1.as_array().is_some_and(|d| !d.is_empty())
    })
    .await;
    let dead: Vec<String> = s.get("/api/v1/dead-letters").await.1.as_array().unwrap().iter().map(key).collect();
    // The webhook is back: a redrive from the console delivers them.
    receiver.set_mode(Mode::Accept);

    let failures = repo_root().join("target").join("console-failures");
    let _ = std::fs::remove_dir_all(&failures);
    let url = s.base.clone();
    let (passed, output) =
        tokio::task::spawn_blocking(move || run_flows(&folder, &chromium, &url, &failures)).await.unwrap();
    assert!(passed, "the console's browser flows failed:\n{output}");
    println!("{output}");

    // What the browser did, as the store has it.
    assert_eq!(birthday_coupon(&s, THIRTY).await, Some(30.0), "the run after the change used 30 yuan");
    assert_eq!(birthday_coupon(&s, TWENTY).await, Some(20.0), "February's decision keeps its 20 yuan");
    let (_, shown) = s.get("/api/v1/plugins/birthday-tiered").await;
    assert_eq!(shown["config"]["levels"]["1"]["value"], 30, "the refused configs left the saved one");
    let (_, audit) = s.get("/api/v1/audit").await;
    let by = |actor: &str, action: &str| {
        audit.as_array().unwrap().iter().filter(|a| a["actor"] == actor && a["action"] == action).count()
    };
    assert_eq!(by("admin", "config"), 1, "one config change (30 yuan), audited as admin's: {audit}");
    assert!(by("admin", "redrive") >= 1, "the redrive is audited: {audit}");
    assert!(!audit.as_array().unwrap().iter().any(|a| a["actor"] == "viewer"), "the read-only token changed: {audit}");
    // A redrive from the console delivers one dead letter or all; none is lost.
    s.eventually("the redriven dead letters delivered", async |s: &Running| {
        let delivered = receiver.with(|r| dead.iter().filter(|k| r.keys.contains(*k)).count());
        let still_dead = s.get("/api/v1/dead-letters").await.1.as_array().map_or(usize::MAX, Vec::len);
        delivered >= 1 && delivered + still_dead == dead.len()
    })
    .await;
    for page in ["sign-in", "canvas", "strategy", "runs", "member", "results", "dry-run", "outbox", "governance"] {
        for lang in ["zh", "en"] {
            let png = repo_root().join("docs").join("console").join(format!("{page}-{lang}.png"));
            let bytes = std::fs::read(&png).unwrap_or_default();
            assert!(bytes.starts_with(b"\x89PNG"), "{} is not a screenshot", png.display());
        }
    }
    s.service.shutdown().await.unwrap();
}

fn key(dead: &Value) -> String {
    dead["key"].as_str().unwrap_or_else(|| panic!("a dead letter without a key: {dead}")).to_string()
}
