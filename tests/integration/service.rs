//! The service harness of the `serve*` tests: a real `canvas serve` on
//! 127.0.0.1:0 with a scaled clock, its store, and an HTTP client with the token.

use std::sync::Arc;
use std::time::{Duration, Instant};

use canvas::app::App;
use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::registry::Registry;
use canvas::runtime::PluginEngine;
use canvas::serve::{self, ScaledClock, Service};
use canvas::store::Store;
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

use crate::support::*;

pub(crate) const TOKEN: &str = "s3cret-token";

pub(crate) struct Running {
    pub(crate) service: Service,
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    pub(crate) store: Arc<Store>,
}

impl Running {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(self.url(path)).bearer_auth(TOKEN).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        let response = self.client.post(self.url(path)).bearer_auth(TOKEN).body(body).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.client.put(self.url(path)).bearer_auth(TOKEN).json(&body).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls `check` until it holds or 20 s pass.
    pub(crate) async fn eventually(&self, what: &str, mut check: impl AsyncFnMut(&Running) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if check(self).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("gave up waiting: {what}");
    }
}

/// A token, no holdout, touches to a file in `dir`; `serve` adds `[serve]`
/// keys, `extra` more tables.
pub(crate) fn service_config(dir: &TempDir, serve: &str, extra: &str) -> CanvasConfig {
    let touches = dir.path().join("touches.jsonl");
    let interval = if serve.contains("dispatch_interval_ms") { "" } else { "dispatch_interval_ms = 100\n" };
    config(&format!(
        "[governance]\nholdout_percent = 0\n[serve]\ntoken = \"{TOKEN}\"\n{interval}{serve}\n\
         [dispatch.channels.\"*\"]\nkind = \"file\"\npath = \"{}\"\n{extra}",
        touches.display()
    ))
}

pub(crate) fn store_with(dir: &TempDir, data: &Data) -> Arc<Store> {
    let store = Store::open(&dir.path().join("store")).unwrap();
    let csv = data.write();
    store.import(&canvas::import::read_dir(csv.path()).unwrap()).unwrap();
    Arc::new(store)
}

pub(crate) async fn start_at(config: CanvasConfig, store: Arc<Store>, clock_start: &str, speed: f64) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ScaledClock::new(parse_instant(clock_start).unwrap(), speed));
    let service = serve::start(App::new(config).unwrap(), store.clone(), clock, listener).await.unwrap();
    let base = format!("http://{}", service.addr);
    Running { service, base, client: reqwest::Client::new(), store }
}

pub(crate) fn birthdays() -> Data {
    Data::new().member("M1", 1, "1990-03-14").member("M2", 3, "1990-03-20").order("M2", "2026-01-10T12:00:00+08:00")
}

/// A store holding `data` at `dir/store`, with `plugins` installed and
/// enabled; closed, so the `canvas` binary can open it.
pub(crate) fn installed_store(dir: &TempDir, data: &Data, plugins: &[&str]) -> std::path::PathBuf {
    let store = store_with(dir, data);
    install(&store, &plugins.iter().map(|p| plugin(p)).collect::<Vec<_>>());
    drop(store);
    dir.path().join("store")
}

/// Installs and enables plugins straight into the store, before the service starts.
pub(crate) fn install(store: &Store, files: &[std::path::PathBuf]) {
    let engine = Arc::new(PluginEngine::new(Default::default()).unwrap());
    let registry = Registry::new(store, &engine);
    for file in files {
        let installed = registry.install("test", &std::fs::read(file).unwrap(), &|_| Default::default(), 0).unwrap();
        registry.set_enabled(&installed.id, true, &Default::default(), 0).unwrap();
    }
}
