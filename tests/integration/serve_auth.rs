//! The admin API is never open by accident (issue 30, finding 8): with no
//! token configured the service generates one into a file only the user can
//! read and asks for it; no token at all only when the operator says so, and
//! only on a loopback address.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use canvas::config::CanvasConfig;
use canvas::serve::{self, Auth, ScaledClock};
use reqwest::StatusCode;
use tempfile::TempDir;

use crate::serve_runs::Served;
use crate::service::*;
use crate::support::*;

/// A config with the store and the touches in `dir` and no token; `serve`
/// adds `[serve]` keys.
fn tokenless_config(dir: &TempDir, serve: &str) -> CanvasConfig {
    let (store, touches) = (dir.path().join("store"), dir.path().join("touches.jsonl"));
    config(&format!(
        "store = {:?}\n[serve]\n{serve}\n[dispatch.channels.\"*\"]\nkind = \"file\"\npath = {:?}\n",
        store.display().to_string(),
        touches.display().to_string()
    ))
}

async fn start_on(
    address: &str,
    config: CanvasConfig,
    store: Arc<canvas::store::Store>,
) -> anyhow::Result<serve::Service> {
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    serve::start(canvas::app::App::new(config)?, store, Arc::new(ScaledClock::new(0, 1.0)), listener).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_token_configured_a_generated_token_only_the_user_can_read_guards_the_api() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    let service = start_on("127.0.0.1:0", tokenless_config(&dir, ""), store.clone()).await.unwrap();
    let Auth::File { path, .. } = &service.auth else { panic!("no token file: {:?}", service.auth) };
    assert_eq!(path, &dir.path().join("store").join("serve-token"));
    assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600, "only the user can read it");
    let token = std::fs::read_to_string(path).unwrap().trim().to_string();
    assert_eq!(token.len(), 64, "32 random bytes, hex");

    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://{}{p}", service.addr);
    assert_eq!(client.get(url("/healthz")).send().await.unwrap().status(), StatusCode::OK, "liveness stays open");
    let wasm = std::fs::read(plugin("birthday-tiered")).unwrap();
    // The attack of the issue: an install without credentials.
    let anonymous = client.post(url("/api/v1/plugins")).body(wasm.clone()).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let guessed = client.post(url("/api/v1/plugins")).bearer_auth("").body(wasm.clone()).send().await.unwrap();
    assert_eq!(guessed.status(), StatusCode::UNAUTHORIZED, "an empty bearer is no token");
    assert_eq!(client.get(url("/api/v1/runs")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let installed = client.post(url("/api/v1/plugins")).bearer_auth(&token).body(wasm).send().await.unwrap();
    assert_eq!(installed.status(), StatusCode::CREATED);
    service.shutdown().await.unwrap();

    let again = start_on("127.0.0.1:0", tokenless_config(&dir, ""), store).await.unwrap();
    assert_eq!(again.auth, Auth::File { path: dir.path().join("store").join("serve-token"), token: token.clone() });
    let listed = client.get(format!("http://{}/api/v1/plugins", again.addr)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK, "a restart keeps the token clients have");
    again.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_without_a_token_must_be_asked_for_and_only_on_a_loopback_address() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &birthdays());
    for serve in ["", "allow_no_token = true"] {
        let refused = start_on("0.0.0.0:0", tokenless_config(&dir, serve), store.clone()).await;
        let message = format!("{:#}", refused.err().expect("refused on a non-loopback address"));
        assert!(message.contains("without a token"), "{serve}: {message}");
    }
    assert!(!dir.path().join("store").join("serve-token").exists(), "nothing generated for a refused address");

    let open = start_on("127.0.0.1:0", tokenless_config(&dir, "allow_no_token = true"), store).await.unwrap();
    assert_eq!(open.auth, Auth::Open);
    let listed = reqwest::get(format!("http://{}/api/v1/plugins", open.addr)).await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK, "asked for: open on loopback");
    assert!(!dir.path().join("store").join("serve-token").exists());
    open.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canvas_serve_no_token_is_refused_off_loopback_and_says_the_api_is_open_on_it() {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("canvas.toml");
    let (store, touches) = (dir.path().join("store"), dir.path().join("touches.jsonl"));
    let text = format!(
        "store = {:?}\n[dispatch.channels.\"*\"]\nkind = \"file\"\npath = {:?}\n",
        store.display().to_string(),
        touches.display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    assert!(canvas().args(["init", "--config"]).arg(&config).status().unwrap().success());
    let refused = canvas()
        .args(["serve", "--no-token", "--listen", "0.0.0.0:0", "--config"])
        .arg(&config)
        .env_remove("CANVAS_TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("allow_no_token (--no-token) is only for a loopback address"), "{stderr}");

    let mut open = Served::start_with(&config, &["--no-token"]);
    assert!(open.stdout.lock().unwrap().contains("the admin API is open to anyone on this machine"));
    let listed = reqwest::get(format!("http://{}/api/v1/plugins", open.addr)).await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    open.terminate();
    assert!(open.exits_within(std::time::Duration::from_secs(30)).success());
    assert!(!dir.path().join("store").join("serve-token").exists());
}
