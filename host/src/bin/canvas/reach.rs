//! The store, or the service that holds it. sled lets one process open a
//! store; while `canvas serve` has it, the read and lifecycle commands
//! (`plugin …`, `audit`, `outbox …`, `runs`, `results`, `report`, `run`, `member`) reach the service's admin API
//! instead, with the token this machine knows (`auth::client_token`), and
//! say so on stderr. The changes they make there are recorded under that
//! token's name. Every other command is refused with the service's address.

use std::path::Path;

use anyhow::Context;
use reqwest::Method;
use serde_json::Value;

use canvas::config::CanvasConfig;
use canvas::serve::auth::client_token;
use canvas::store::{ServiceAddress, Store, StoreInUse};

/// Where a command finds what it reads and changes.
pub enum Reach {
    Store(Store),
    Service(ServiceClient),
}

/// The store at `path`, or the service holding it.
pub fn store_or_service(path: &Path, config: &CanvasConfig) -> anyhow::Result<Reach> {
    let error = match Store::open_existing(path) {
        Ok(store) => return Ok(Reach::Store(store)),
        Err(error) => error,
    };
    match error.downcast_ref::<StoreInUse>().and_then(|in_use| in_use.service) {
        Some(service) => {
            let token = client_token(&config.serve, path)?;
            eprintln!("(the store is held by the service: through its API at http://{})", service.addr);
            Ok(Reach::Service(ServiceClient::new(service, token)?))
        }
        None => Err(error),
    }
}

/// A blocking client of the service's admin API.
pub struct ServiceClient {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl ServiceClient {
    fn new(service: ServiceAddress, token: Option<String>) -> anyhow::Result<ServiceClient> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(ServiceClient { base: format!("http://{}", service.addr), token, client: reqwest::Client::new(), runtime })
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(Method::GET, path, None)
    }

    pub fn post(&self, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        self.send(Method::POST, path, body.map(|b| b.to_string().into_bytes()))
    }

    pub fn put(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(Method::PUT, path, Some(body.to_string().into_bytes()))
    }

    pub fn delete(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(Method::DELETE, path, Some(body.to_string().into_bytes()))
    }

    /// Uploads `bytes` (a plugin's wasm) as the request body.
    pub fn upload(&self, path: &str, bytes: Vec<u8>) -> anyhow::Result<Value> {
        self.send(Method::POST, path, Some(bytes))
    }

    /// The answer's JSON; a refusal as an error with the service's own
    /// message (and details), naming the status.
    fn send(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.request(method.clone(), &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        self.runtime.block_on(async {
            let response = request.send().await.with_context(|| format!("cannot reach the service at {url}"))?;
            let status = response.status();
            let text = response.text().await.with_context(|| format!("reading the answer of {method} {url}"))?;
            let json: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if status.is_success() {
                return Ok(json);
            }
            let message = json.get("error").and_then(Value::as_str).map(str::to_string).unwrap_or(json.to_string());
            let details: Vec<&str> =
                json.get("details").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            let hint = match status.as_u16() {
                401 => " (set CANVAS_TOKEN to a token of the service)",
                403 => " (this token may only read)",
                _ => "",
            };
            let details = details.iter().map(|d| format!("\n  {d}")).collect::<String>();
            anyhow::bail!("the service refused {method} {path} ({status}): {message}{hint}{details}")
        })
    }
}
