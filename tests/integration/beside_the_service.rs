//! The CLI beside the running service: while `canvas serve` holds the store,
//! the read and lifecycle commands go through its admin API (with the token
//! it generated, or `CANVAS_TOKEN`), their changes recorded under the token's
//! name; the commands that need the store itself name the service; and once
//! the service stops, the same commands open the store again.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::serve_runs::Served;
use crate::service::*;
use crate::support::*;

const VIEWER: &str = "viewer-token-0123456789";

/// `canvas ARGS --config CONFIG`: exit code, stdout, stderr.
fn cli(config: &Path, args: &[&str], token: Option<&str>) -> (Option<i32>, String, String) {
    let mut command = canvas();
    command.args(args).arg("--config").arg(config).env_remove("CANVAS_TOKEN");
    if let Some(token) = token {
        command.env("CANVAS_TOKEN", token);
    }
    let output = command.output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn read_and_lifecycle_commands_reach_the_service_holding_the_store() {
    let dir = TempDir::new().unwrap();
    let store = installed_store(&dir, &birthdays(), &["birthday-tiered"]);
    let config = dir.path().join("canvas.toml");
    let text = format!(
        "store = {:?}\n[governance]\nholdout_percent = 0\n\
         [serve]\ndispatch_interval_ms = 100\n[serve.tokens.viewer]\ntoken = \"{VIEWER}\"\nread_only = true\n\
         [dispatch.channels.\"*\"]\nkind = \"file\"\npath = {:?}\n",
        store.display().to_string(),
        dir.path().join("touches.jsonl").display().to_string(),
    );
    std::fs::write(&config, text).unwrap();
    let mut served = Served::start_with(&config, &[]);
    assert!(dir.path().join("store/serve.json").is_file(), "the service says where it listens");

    let (code, out, err) = cli(&config, &["plugin", "disable", "birthday-tiered"], None);
    assert_eq!((code, out.trim()), (Some(0), "birthday-tiered disabled"), "{err}");
    assert!(err.contains(&format!("through its API at http://{}", served.addr)), "{err}");
    let (code, out, err) = cli(&config, &["plugin", "list"], None);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("birthday-tiered") && out.lines().nth(1).unwrap().contains(" no "), "{out}");

    let (code, out, err) = cli(&config, &["plugin", "enable", "birthday-tiered"], None);
    assert_eq!((code, out.trim()), (Some(0), "birthday-tiered enabled"), "{err}");
    let (code, out, err) = cli(&config, &["plugin", "config", "birthday-tiered", "--set", "levels.1.value=30"], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(r#""value":30"#) && out.contains(r#""4":{"#), "set at the leaf, the other levels kept: {out}");
    let (code, out, err) = cli(&config, &["plugin", "config", "birthday-tiered", "--set", "levels.1.value=-30"], None);
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("400") && err.contains("levels.1.value"), "the plugin's refusal, named: {err}");
    let (code, out, _) = cli(&config, &["plugin", "show", "birthday-tiered"], None);
    assert!(
        code == Some(0) && out.contains("enabled:   yes") && out.contains(r#"operator config:  {"levels""#),
        "{out}"
    );

    // The viewer's token may look, and not change.
    let (code, out, _) = cli(&config, &["plugin", "list"], Some(VIEWER));
    assert!(code == Some(0) && out.contains("birthday-tiered"), "{out}");
    let (code, _, err) = cli(&config, &["plugin", "disable", "birthday-tiered"], Some(VIEWER));
    assert_eq!(code, Some(1));
    assert!(err.contains("403") && err.contains("read-only"), "{err}");

    // Asked of the service, a run follows its rules: not due then, so refused unless forced.
    let (code, out, err) =
        cli(&config, &["run", "--at", "2026-03-15T10:00:00+08:00", "--strategies", "birthday-tiered"], None);
    assert_eq!(code, Some(1), "not due then, so refused: {out}");
    assert!(err.contains("409"), "{err}");
    let at = "2026-03-01T10:00:00+08:00";
    let (code, out, err) = cli(&config, &["run", "--at", at, "--strategies", "birthday-tiered", "--force"], None);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("birthday-tiered") && out.contains("completed"), "{out}");
    let (code, out, _) = cli(&config, &["runs"], None);
    assert!(code == Some(0) && out.contains("manual") && out.ends_with("1 runs\n"), "{out}");
    let (code, out, _) = cli(&config, &["outbox", "list"], None);
    assert_eq!(code, Some(0));
    assert!(out.lines().last().unwrap().ends_with(" entries") && out.contains("birthday-tiered"), "{out}");

    let (code, out, _) = cli(&config, &["audit", "--format", "json"], None);
    assert_eq!(code, Some(0));
    let audit: Vec<Value> = serde_json::from_str(&out).unwrap();
    let actions: Vec<(&str, &str)> =
        audit.iter().map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap())).collect();
    let expected = [("admin", "run"), ("admin", "config"), ("admin", "enable"), ("admin", "disable")];
    assert_eq!(&actions[..4], expected, "{out}");

    // What needs the store itself says who holds it.
    let (code, _, err) = cli(&config, &["dispatch"], None);
    assert_eq!(code, Some(1));
    assert!(err.contains(&format!("in use by the canvas service at http://{}", served.addr)), "{err}");

    served.terminate();
    assert!(served.exits_within(Duration::from_secs(30)).success());
    assert!(!dir.path().join("store/serve.json").exists(), "taken back as the service stops");
    let (code, out, err) = cli(&config, &["plugin", "list"], None);
    assert!(code == Some(0) && out.lines().nth(1).unwrap().contains(" yes "), "{out}{err}");
    assert!(err.is_empty(), "the store itself, now: {err}");
}
