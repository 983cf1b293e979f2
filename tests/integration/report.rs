//! The simulation report: the baseline's and the cost's arithmetic through
//! the whole pipeline (each order once, money in fen, no uplift), zero side
//! effects, output for scripts, and report.html rendered by a real headless
//! Chromium — charts drawn and titled, Chinese in a CJK font, no horizontal
//! scroll at 1,280 px, and what made it named.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::receiver::{Mode, Receiver};
use crate::support::*;

#[test]
fn the_baseline_counts_selected_members_touched_or_not_and_claims_no_uplift() {
    // 40 birthday members; every second one orders three days after the run.
    let mut data = Data::new();
    for i in 0..40 {
        let id = format!("M{i:02}");
        data = data.member(&id, 1, "1990-03-14");
        if i % 2 == 0 {
            data = data.order(&id, "2026-03-04T12:00:00+08:00");
        }
    }
    data = data.member("LAST", 1, "").order("LAST", "2026-04-30T12:00:00+08:00");
    let dir = data.write();
    let s = simulate_with(dir.path(), &[plugin("birthday-tiered")], "2026-03-01", "2026-03-01", config(""));
    let text = std::fs::read_to_string(&s.result.report_json).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let section = &report["strategies"]["birthday-tiered"];
    let b = &section["baseline"];
    assert!(s.decisions.iter().any(|d| d["status"] == "holdout"), "some were held out, and count all the same");
    assert_eq!(b["members"], 40, "touched or held out, every selected member");
    assert_eq!(b["converted"], 20);
    assert_eq!(b["conversion"], 0.5);
    assert_eq!(b["revenue_fen"], 20 * 19_900, "199 yuan each, in fen");
    assert_eq!(b["average_order_value_fen"], 19_900);
    // The benefits of the touches it would send, in fen, as decisions.jsonl has them in yuan.
    let sent_yuan: f64 = s
        .decisions
        .iter()
        .filter(|d| d["status"] == "dispatched" || d["status"] == "deferred")
        .map(|d| d["benefit"]["value"].as_f64().unwrap_or(0.0))
        .sum();
    let c = &section["cost"];
    assert_eq!(c["benefits_fen"].as_i64().unwrap(), (sent_yuan * 100.0).round() as i64);
    assert_eq!(section["benefit_fen"], c["benefits_fen"]);
    let touched = c["touched_members"].as_f64().unwrap();
    let expected = 100.0 * (c["total_fen"].as_f64().unwrap() / touched) / (19_900.0 * 0.6);
    assert!((c["break_even_pp"].as_f64().unwrap() - expected).abs() < 1e-9, "{c}");
    assert_eq!(report["attribution_days"], 7);
    assert_eq!(report["margin"], 0.6);
    assert_eq!(section["audience_by_day"]["2026-03-01"], 40);
    assert!(!text.to_lowercase().contains("uplift"), "no uplift over history: {text}");
}

/// Every number in report.json whose name says money is in fen and says so.
fn money_fields_are_fen(value: &serde_json::Value, path: &str, found: &mut Vec<String>) {
    const MONEY: [&str; 9] =
        ["revenue", "benefit", "benefits", "cost", "price", "discount", "discounts", "yuan", "value"];
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let here = format!("{path}.{key}");
                if v.is_number() && (key.ends_with("_fen") || key.split('_').any(|word| MONEY.contains(&word))) {
                    assert!(key.ends_with("_fen"), "{here} is money but not named *_fen");
                    assert!(v.is_i64(), "{here} is not a whole number of fen: {v}");
                    found.push(here.clone());
                }
                money_fields_are_fen(v, &here, found);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| money_fields_are_fen(v, path, found)),
        _ => {}
    }
}

#[test]
fn report_json_gives_money_in_fen_only_and_names_what_made_it() {
    let plugins = SHIPPED_STRATEGIES.map(plugin);
    let sim = simulate_with(&repo_root().join("sample-data"), &plugins, "2026-09-01", "2026-09-30", config(""));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sim.result.report_json).unwrap()).unwrap();
    let mut found = Vec::new();
    money_fields_are_fen(&report, "", &mut found);
    for field in ["benefit_fen", "revenue_fen", "total_fen", "group_buy_discounts_fen", "average_order_value_fen"] {
        assert!(found.iter().any(|f| f.ends_with(field)), "{field} missing from {found:?}");
    }
    // Group-buy invites cost their discount off the list price.
    let gb = &report["strategies"]["group-buy-referral"]["cost"];
    let sent = sim
        .decisions
        .iter()
        .filter(|d| d["action"] == "group_buy_invite" && d["status"] != "holdout" && d["status"] != "suppressed");
    assert_eq!(gb["group_buy_invites"].as_u64().unwrap(), sent.count() as u64, "{gb}");
    assert!(gb["group_buy_discounts_fen"].as_i64().unwrap() > 0, "{gb}");
    assert_eq!(
        gb["total_fen"].as_i64().unwrap(),
        gb["benefits_fen"].as_i64().unwrap() + gb["group_buy_discounts_fen"].as_i64().unwrap()
    );

    let p = &report["provenance"];
    let config_hash = canvas::simulate::config_sha256(&config("")).unwrap();
    assert_eq!(p["config_sha256"], config_hash.as_str());
    let plugins: Vec<&str> = p["plugins"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(plugins.len(), SHIPPED_STRATEGIES.len(), "{plugins:?}");
    for build in p["plugins"].as_array().unwrap() {
        let file = plugin(build["id"].as_str().unwrap());
        let sha = format!("{:x}", Sha256::digest(std::fs::read(&file).unwrap()));
        assert_eq!(build["sha256"], sha.as_str(), "{build}");
        assert!(build["version"].as_str().is_some_and(|v| !v.is_empty()));
    }
    assert!(p["data_first"].as_str().unwrap() < p["data_last"].as_str().unwrap());
    assert!(p["generated_at"].is_string());
}

#[test]
fn overall_revenue_counts_an_order_inside_two_strategies_windows_once() {
    // D is due for both birthday-tiered (born in March) and dormant-recall
    // (last order exactly 90 days before); one wins arbitration, both
    // selected D, and D's order two days later is in both windows.
    let data = Data::new()
        .member("D", 1, "1990-03-14")
        .order("D", "2025-12-01T12:00:00+08:00")
        .order("D", "2026-03-03T12:00:00+08:00")
        .member("B", 1, "1990-03-20")
        .order("B", "2026-03-04T12:00:00+08:00")
        .member("LAST", 1, "")
        .order("LAST", "2026-04-30T12:00:00+08:00")
        .write();
    let s = simulate_with(
        data.path(),
        &[plugin("birthday-tiered"), plugin("dormant-recall")],
        "2026-03-01",
        "2026-03-01",
        config(""),
    );
    let d_strategies: std::collections::BTreeSet<&str> =
        s.decisions.iter().filter(|d| d["member_id"] == "D").map(|d| d["strategy"].as_str().unwrap()).collect();
    assert_eq!(d_strategies.len(), 2, "both strategies decided on D: {:?}", s.decisions);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&s.result.report_json).unwrap()).unwrap();
    let revenue = |section: &serde_json::Value| section["baseline"]["revenue_fen"].as_i64().unwrap();
    let (birthday, recall) =
        (revenue(&report["strategies"]["birthday-tiered"]), revenue(&report["strategies"]["dormant-recall"]));
    assert_eq!((birthday, recall), (2 * 19_900, 19_900), "each strategy counts the orders in its own windows");
    assert_eq!(revenue(&report["overall"]), 2 * 19_900, "overall counts D's order once, not {}", birthday + recall);
    assert_eq!(report["overall"]["baseline"]["orders"], 2);
    assert_eq!(report["overall"]["baseline"]["members"], 2);
}

/// Every file under `dir` with its SHA-256, for before/after comparisons.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let hash = Sha256::digest(std::fs::read(&path).unwrap());
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), format!("{hash:x}"));
            }
        }
    }
    files
}

#[test]
fn a_simulation_has_no_side_effects_but_its_files_in_out() {
    let receiver = Receiver::start(Mode::Accept);
    let work = TempDir::new().unwrap();
    let (data, tmp, operator) = (work.path().join("data"), work.path().join("tmp"), work.path().join("operator"));
    std::fs::create_dir_all(&tmp).unwrap();
    Data::new().member("M1", 1, "1990-03-14").member("M2", 2, "1990-03-20").write_to(&data);
    let config = work.path().join("canvas.toml");
    let config_text = format!(
        "store = \"{}\"\n[dispatch.channels.\"*\"]\nkind = \"webhook\"\nurl = \"{}\"\n",
        operator.join("store").display(),
        receiver.url
    );
    std::fs::write(&config, config_text).unwrap();
    let plugins = plugin_dir(&[plugin("birthday-tiered")]);
    // The operator's own store, with data and a real run's decisions in it.
    let with_config = |args: &[&str]| {
        let mut c = canvas();
        c.current_dir(work.path()).env("TMPDIR", &tmp).arg("--config").arg(&config).args(args);
        c.output().unwrap()
    };
    assert!(with_config(&["import", "--data", "data"]).status.success());
    let run = with_config(&["run", "--at", "2026-03-01T10:00:00+08:00", "--plugins", plugins.path().to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let requests_before = receiver.with(|r| r.requests);
    assert!(requests_before > 0, "the real run did dispatch");
    let before = snapshot(work.path());

    let out = with_config(&[
        "simulate",
        "--data",
        "data",
        "--from",
        "2026-03-01",
        "--to",
        "2027-03-31",
        "--out",
        "out",
        "--plugins",
        plugins.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "--quiet prints nothing");

    assert_eq!(receiver.with(|r| r.requests), requests_before, "no dispatcher was called");
    let mut after = snapshot(work.path());
    let written: Vec<PathBuf> = after.keys().filter(|p| p.starts_with("out")).cloned().collect();
    for p in &written {
        after.remove(p);
    }
    assert_eq!(after, before, "nothing changed outside OUT: not the operator's store, the data, the config or TMPDIR");
    let names: Vec<String> = written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
}

#[test]
fn json_output_is_the_report_for_scripts() {
    let data = Data::new().member("M1", 1, "1990-03-14").write();
    let plugins = plugin_dir(&[plugin("birthday-tiered")]);
    let out = TempDir::new().unwrap();
    let output = canvas()
        .args(["simulate", "--data", data.path().to_str().unwrap(), "--from", "2026-03-01", "--to", "2026-03-02"])
        .args([
            "--out",
            out.path().to_str().unwrap(),
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(json["report"]["runs"], 1);
    assert_eq!(json["report"]["strategies"]["birthday-tiered"]["decisions"], 1);
    assert!(json["files"]["report_html"].as_str().unwrap().ends_with("report.html"));
}

fn chromium() -> PathBuf {
    let path = PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    assert!(path.exists(), "{} is missing: `make test` installs Debian's chromium", path.display());
    path
}

/// Pixels within a small distance of an RGB colour.
fn pixels_like(image: &[u8], channels: usize, rgb: [u8; 3]) -> usize {
    image.chunks(channels).filter(|p| (0..3).all(|i| (p[i] as i32 - rgb[i] as i32).abs() <= 12)).count()
}

/// The headless Chromium flags every run here shares: no network, no
/// profile outside `profile`.
fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.join("profile").display()));
    c
}

/// Measures the page in the browser, at 1,280 px: a copy of it with a
/// script that writes what it found into the DOM, which `--dump-dom` prints.
/// Two different Chinese characters drawn in the page's font come out alike
/// when no font has them (both the same "tofu" box, or nothing).
const PROBE: &str = r#"<script>
(function () {
  const r = {};
  r.scrollWidth = document.documentElement.scrollWidth;
  r.innerWidth = window.innerWidth;
  r.overflowingTables = [...document.querySelectorAll('.scroll')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => (e.querySelector('th') || e).textContent);
  r.tablesOutsideBoxes = [...document.querySelectorAll('table')].filter(t => !t.closest('.scroll')).length;
  const charts = [...document.querySelectorAll('svg.chart')];
  r.charts = charts.length;
  r.untitledCharts = charts.filter(svg => {
    const caption = svg.closest('figure') && svg.closest('figure').querySelector('figcaption');
    return !caption || !caption.textContent.trim() || caption.getBoundingClientRect().height < 8;
  }).length;
  const font = getComputedStyle(document.querySelector('h1')).fontFamily;
  r.font = font;
  const draw = ch => {
    const c = document.createElement('canvas'); c.width = 64; c.height = 64;
    const x = c.getContext('2d'); x.font = '48px ' + font; x.fillStyle = '#000'; x.fillText(ch, 4, 52);
    return Array.from(x.getImageData(0, 0, 64, 64).data.filter((v, i) => i % 4 === 3));
  };
  const a = draw('营'), b = draw('销');
  r.cjkInk = a.filter(v => v > 0).length;
  r.cjkGlyphsDiffer = a.some((v, i) => v !== b[i]);
  r.text = document.body.innerText;
  const out = document.createElement('pre'); out.id = 'probe';
  out.textContent = JSON.stringify(r);
  document.body.appendChild(out);
})();
</script>"#;

#[test]
fn report_html_renders_its_charts_in_headless_chromium() {
    let plugins = SHIPPED_STRATEGIES.map(plugin);
    let sim = simulate_with(&repo_root().join("sample-data"), &plugins, "2026-08-01", "2026-09-30", config(""));
    let html = std::fs::read_to_string(&sim.result.report_html).unwrap();
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "self-contained");

    let profile = TempDir::new().unwrap();
    let shot = profile.path().join("report.png");
    let output = headless(profile.path())
        .args(["--window-size=1000,3200", &format!("--screenshot={}", shot.display())])
        .arg(format!("file://{}", sim.result.report_html.display()))
        .output()
        .unwrap();
    assert!(shot.exists(), "chromium wrote no screenshot: {}", String::from_utf8_lossy(&output.stderr));

    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut image = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut image).unwrap();
    let channels = info.color_type.samples();
    let image = &image[..info.buffer_size()];
    // The charts' first three palette colours (series lines, status bars) are on the page.
    for (name, rgb) in [("blue", [0x2f, 0x6f, 0xdf]), ("orange", [0xe8, 0x77, 0x2e]), ("green", [0x2e, 0x9e, 0x5b])] {
        let n = pixels_like(image, channels, rgb);
        assert!(n > 2_000, "the charts drew little {name}: {n} pixels");
    }
}

#[test]
fn report_html_at_1280_px_fits_the_window_titles_its_charts_renders_chinese_and_names_what_made_it() {
    let plugins = SHIPPED_STRATEGIES.map(plugin);
    let sim = simulate_with(&repo_root().join("sample-data"), &plugins, "2026-08-01", "2026-10-24", config(""));
    let html = std::fs::read_to_string(&sim.result.report_html).unwrap();
    assert_eq!(html.matches("uplift").count(), 1, "one sentence says uplift is measured live, nothing claims one");
    assert!(!html.to_lowercase().contains("did it work"));
    let profile = TempDir::new().unwrap();
    let probed = profile.path().join("probed.html");
    std::fs::write(&probed, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let output = headless(profile.path())
        .args(["--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", probed.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    let escaped = dom
        .split_once(r#"<pre id="probe">"#)
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .unwrap_or_else(|| panic!("no probe in the DOM: {}", String::from_utf8_lossy(&output.stderr)))
        .0;
    // A text node is serialized with &, <, > and no-break spaces escaped.
    let json = escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", "\u{a0}").replace("&amp;", "&");
    let probe: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));

    assert_eq!(probe["innerWidth"], 1280, "{probe}");
    assert!(probe["scrollWidth"].as_u64().unwrap() <= 1280, "the page scrolls sideways: {}", probe["scrollWidth"]);
    assert_eq!(probe["overflowingTables"], serde_json::json!([]), "tables cut off at 1,280 px");
    assert_eq!(probe["tablesOutsideBoxes"], 0, "every table scrolls inside its own box");
    assert!(probe["charts"].as_u64().unwrap() >= 5, "{}", probe["charts"]);
    assert_eq!(probe["untitledCharts"], 0, "every chart has a visible title");
    assert!(probe["font"].as_str().unwrap().contains("Noto Sans CJK SC"), "{}", probe["font"]);
    assert!(
        probe["cjkInk"].as_u64().unwrap() > 50 && probe["cjkGlyphsDiffer"] == true,
        "Chinese renders as empty boxes (no CJK font: `make chromium` installs fonts-noto-cjk): {probe}"
    );

    let text = probe["text"].as_str().unwrap();
    let report = &sim.result.report;
    let p = &report.provenance;
    assert!(text.contains(&p.config_sha256), "the config's hash is on the page");
    for build in &p.plugins {
        assert!(text.contains(&build.sha256) && text.contains(&build.id), "{} is not named", build.id);
    }
    for named in [p.data_first.as_ref().unwrap(), p.data_last.as_ref().unwrap(), &p.generated_at] {
        assert!(text.contains(named.as_str()), "{named} is not on the page");
    }
}
