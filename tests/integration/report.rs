//! The simulation report: the backtest's arithmetic through the whole
//! pipeline, zero side effects, output for scripts, and report.html rendered
//! by a real headless Chromium with its charts drawn.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::receiver::{Mode, Receiver};
use crate::support::*;

#[test]
fn the_backtest_scores_touched_members_against_the_holdout() {
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
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&s.result.report_json).unwrap()).unwrap();
    let b = &report["strategies"]["birthday-tiered"]["backtest"];
    let held: Vec<&str> =
        s.decisions.iter().filter(|d| d["status"] == "holdout").map(|d| d["member_id"].as_str().unwrap()).collect();
    let converted_held = held.iter().filter(|m| m[1..].parse::<u32>().unwrap() % 2 == 0).count() as u64;
    assert_eq!(b["touched"]["members"].as_u64().unwrap() + b["holdout"]["members"].as_u64().unwrap(), 40);
    assert_eq!(b["holdout"]["members"].as_u64().unwrap(), held.len() as u64);
    assert_eq!(b["holdout"]["converted"].as_u64().unwrap(), converted_held);
    assert_eq!(b["touched"]["converted"].as_u64().unwrap(), 20 - converted_held);
    assert_eq!(b["touched"]["revenue"].as_u64().unwrap(), (20 - converted_held) * 19_900, "199 yuan each, in fen");
    assert_eq!(b["sales"]["new"].as_u64().unwrap(), (20 - converted_held) * 19_900, "first orders ever");
    assert!(b["uplift"]["low"].as_f64().unwrap() < b["uplift"]["difference"].as_f64().unwrap());
    assert_eq!(report["attribution_days"], 7);
    assert_eq!(report["strategies"]["birthday-tiered"]["audience_by_day"]["2026-03-01"], 40);
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

#[test]
fn report_html_renders_its_charts_in_headless_chromium() {
    let plugins = SHIPPED_STRATEGIES.map(plugin);
    let sim = simulate_with(&repo_root().join("sample-data"), &plugins, "2026-08-01", "2026-09-30", config(""));
    let html = std::fs::read_to_string(&sim.result.report_html).unwrap();
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "self-contained");

    let profile = TempDir::new().unwrap();
    let shot = profile.path().join("report.png");
    let output = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
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
    // The charts' first three palette colours (series lines, status bars, sales bars) are on the page.
    for (name, rgb) in [("blue", [0x2f, 0x6f, 0xdf]), ("orange", [0xe8, 0x77, 0x2e]), ("green", [0x2e, 0x9e, 0x5b])] {
        let n = pixels_like(image, channels, rgb);
        assert!(n > 2_000, "the charts drew little {name}: {n} pixels");
    }
}
