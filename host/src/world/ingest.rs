//! The world's way back into the service: its orders and events POSTed to
//! the ingest API (`/api/v1/orders`, `/api/v1/events`) as JSON arrays, in
//! batches, with the service's token. A refusal is an error naming the
//! route and what the service said: the world's records must all land, or
//! the loop's results would measure less than was planted.

use anyhow::Context;
use serde_json::Value;

/// Records per request: well under the API's body limit.
const BATCH: usize = 5_000;

/// A client of one service's ingest API.
pub struct Ingest {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Ingest {
    /// For the service at `base` (`http://127.0.0.1:PORT`), with its bearer token if it takes one.
    pub fn new(base: String, token: Option<String>) -> Self {
        Ingest { client: reqwest::Client::new(), base, token }
    }

    /// POSTs `records` to `route` (`orders` or `events`).
    pub async fn post(&self, route: &str, records: &[Value]) -> anyhow::Result<()> {
        for batch in records.chunks(BATCH) {
            let url = format!("{}/api/v1/{route}", self.base);
            let mut request = self.client.post(&url).json(batch);
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.with_context(|| format!("POST {url}"))?;
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                anyhow::bail!("POST {url} was refused ({status}): {body}");
            }
        }
        Ok(())
    }

    /// POSTs the world's reactions: orders, then events.
    pub async fn send(&self, reactions: &super::respond::Reactions) -> anyhow::Result<()> {
        if !reactions.orders.is_empty() {
            self.post("orders", &reactions.orders).await?;
        }
        if !reactions.events.is_empty() {
            self.post("events", &reactions.events).await?;
        }
        Ok(())
    }
}
