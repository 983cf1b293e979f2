//! Where touches go: an HTTP webhook or a JSONL file. Both are idempotent by
//! the decision key — the webhook through the `Idempotency-Key` header, the
//! file by never writing a key it already holds. A webhook's 429 is told
//! apart from a failure, with the wait its `Retry-After` asks for.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::store::OutboxItem;

/// A sink in config: `{ kind = "webhook", url = "…" }` or `{ kind = "file", path = "…" }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkConfig {
    /// POST each touch as JSON to an HTTP(S) endpoint.
    Webhook {
        /// The endpoint; `http://` or `https://`, checked when the config is.
        url: String,
    },
    /// Append each touch as a JSON line to a file.
    File {
        /// The file, created with its folders if missing; relative to the working directory.
        path: PathBuf,
    },
}

/// What one delivery attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The receiver has it (a 2xx, a 409 for a key it holds, or a line the file already had).
    Delivered,
    /// Worth trying again later (timeout, connection refused, 5xx, 408).
    Retry(String),
    /// The receiver is over its rate limit (HTTP 429): not the touch's
    /// failure. `retry_after`: the wait its `Retry-After` header asks for,
    /// if it sent one that reads (seconds, or an HTTP date).
    RateLimited {
        /// What the receiver said, for the entry's last error.
        message: String,
        /// From now; `None` without a readable `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// Refused for good (e.g. 400): straight to the dead letters.
    Refused(String),
}

/// An open sink, shared by every channel routed to it.
pub enum Sink {
    /// An HTTP endpoint.
    Webhook {
        /// Carries the per-attempt timeout (`dispatch.timeout_ms`).
        client: reqwest::Client,
        /// The endpoint each touch is POSTed to.
        url: String,
    },
    /// A JSONL file.
    File(FileSink),
}

impl Sink {
    /// Opens the sink `config` describes: a file sink reads the keys its file
    /// already holds; `timeout` bounds each HTTP attempt.
    pub fn open(config: &SinkConfig, timeout: Duration) -> anyhow::Result<Self> {
        Ok(match config {
            SinkConfig::Webhook { url } => {
                let client = reqwest::Client::builder().timeout(timeout).build().context("building the HTTP client")?;
                Sink::Webhook { client, url: url.clone() }
            }
            SinkConfig::File { path } => Sink::File(FileSink::open(path)?),
        })
    }

    /// One attempt to deliver `item`; never fails, but says how it went.
    pub async fn deliver(&self, item: &OutboxItem) -> Delivery {
        match self {
            Sink::Webhook { client, url } => post(client, url, item).await,
            Sink::File(file) => file.append(item),
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, item: &OutboxItem) -> Delivery {
    let request = client
        .post(url)
        .header("Idempotency-Key", &item.key)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(item.payload.clone());
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            // 409: the receiver holds this key already — it was delivered before.
            if status.is_success() || status == reqwest::StatusCode::CONFLICT {
                return Delivery::Delivered;
            }
            let retry_after = response.headers().get(reqwest::header::RETRY_AFTER).cloned();
            let body = response.text().await.unwrap_or_default();
            let message = format!("HTTP {}: {}", status.as_u16(), body.chars().take(200).collect::<String>());
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let retry_after =
                    retry_after.and_then(|v| v.to_str().ok().and_then(|v| wait_asked(v, SystemTime::now())));
                return Delivery::RateLimited { message, retry_after };
            }
            let transient = status.is_server_error() || status == reqwest::StatusCode::REQUEST_TIMEOUT;
            if transient {
                Delivery::Retry(message)
            } else {
                Delivery::Refused(message)
            }
        }
        Err(e) if e.is_timeout() => Delivery::Retry("timed out".to_string()),
        Err(e) if e.is_connect() => Delivery::Retry(format!("cannot connect to {url}")),
        Err(e) => Delivery::Retry(format!("{e}")),
    }
}

/// The wait a `Retry-After` value asks for at `now` (RFC 9110 §10.2.3):
/// whole seconds, or an HTTP date (a date already past: no wait). `None`
/// when it reads as neither.
pub fn wait_asked(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Appends one JSON line per touch; a key already in the file is not written again.
pub struct FileSink {
    path: PathBuf,
    state: Mutex<(File, HashSet<String>)>,
}

impl FileSink {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut written = HashSet::new();
        if path.exists() {
            let reader = BufReader::new(File::open(path).with_context(|| format!("cannot read {}", path.display()))?);
            for line in reader.lines() {
                let line = line?;
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) {
                    if let Some(key) = value.get("key").and_then(|k| k.as_str()) {
                        written.insert(key.to_string());
                    }
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} for appending", path.display()))?;
        Ok(FileSink { path: path.to_path_buf(), state: Mutex::new((file, written)) })
    }

    fn append(&self, item: &OutboxItem) -> Delivery {
        let mut state = self.state.lock().expect("file sink lock");
        let (file, written) = &mut *state;
        if written.contains(&item.key) {
            return Delivery::Delivered;
        }
        match writeln!(file, "{}", item.payload).and_then(|_| file.flush()) {
            Ok(()) => {
                written.insert(item.key.clone());
                Delivery::Delivered
            }
            Err(e) => Delivery::Retry(format!("writing {}: {e}", self.path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_as_seconds_or_an_http_date() {
        let now = httpdate::parse_http_date("Sun, 01 Mar 2026 02:00:00 GMT").unwrap();
        assert_eq!(wait_asked("2", now), Some(Duration::from_secs(2)));
        assert_eq!(wait_asked(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(wait_asked("Sun, 01 Mar 2026 02:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(wait_asked("Sun, 01 Mar 2026 01:59:00 GMT", now), Some(Duration::ZERO), "a date past: go on");
        assert_eq!(wait_asked("soon", now), None);
        assert_eq!(wait_asked("-1", now), None);
        assert_eq!(wait_asked("1.5", now), None, "delta-seconds are whole");
    }
}
