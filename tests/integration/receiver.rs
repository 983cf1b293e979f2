//! A real webhook receiver on 127.0.0.1:0 that honours `Idempotency-Key`
//! the way a provider would: the first request with a key is accepted, a
//! repeat is answered 200 and counted as a redelivery. Its behaviour can be
//! switched to fail, stall, refuse or rate-limit (429); it logs when each
//! request came, for which channel, and what it answered.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// Answer this status to every request.
    Fail(u16),
    /// Answer 500 to the first `n` requests of each key, then accept.
    FailFirst(u32),
    /// Accept at once, but take this long to answer (the provider got it; the answer is late).
    Slow(Duration),
    /// Accept after a random pause of up to this long (to spread a crash test).
    Jitter(Duration),
    /// Answer 429 to the first `first` requests, with this `Retry-After` if
    /// given, then accept.
    TooManyFirst {
        first: u64,
        retry_after: Option<&'static str>,
    },
}

/// A request as it came.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: Instant,
    /// The touch's channel, from its body.
    pub channel: String,
    pub key: String,
    pub status: u16,
}

#[derive(Default)]
pub struct Received {
    /// Accepted touches, in order: (key, body).
    pub accepted: Vec<(String, Value)>,
    pub keys: HashSet<String>,
    pub requests: u64,
    pub redeliveries: u64,
    /// Every request, in the order it came.
    pub log: Vec<Request>,
    attempts: std::collections::HashMap<String, u32>,
}

type Shared = Arc<Mutex<(Mode, Received)>>;

pub struct Receiver {
    pub url: String,
    shared: Shared,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Also fine when dropped inside an async test.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Receiver {
    pub fn start(mode: Mode) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let shared: Shared = Arc::new(Mutex::new((mode, Received::default())));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/touches", listener.local_addr().unwrap());
        let app = Router::new().route("/touches", post(touch)).with_state(shared.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, shared, runtime: Some(runtime) }
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.lock().unwrap().0 = mode;
    }

    pub fn with<T>(&self, f: impl FnOnce(&Received) -> T) -> T {
        f(&self.shared.lock().unwrap().1)
    }
}

async fn touch(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let at = Instant::now();
    let Some(key) = headers.get("idempotency-key").and_then(|k| k.to_str().ok()).map(str::to_string) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let channel = serde_json::from_str::<Value>(&body).ok().and_then(|b| b["channel"].as_str().map(str::to_string));
    let mut retry_after = None;
    let (pause, status) = {
        let mut guard = shared.lock().unwrap();
        let (mode, received) = &mut *guard;
        received.requests += 1;
        let request = received.requests;
        let attempt = received.attempts.entry(key.clone()).or_default();
        *attempt += 1;
        let answer = match *mode {
            Mode::Accept => (None, StatusCode::OK),
            Mode::Fail(code) => (None, StatusCode::from_u16(code).unwrap()),
            Mode::FailFirst(n) if *attempt <= n => (None, StatusCode::INTERNAL_SERVER_ERROR),
            Mode::FailFirst(_) => (None, StatusCode::OK),
            Mode::Slow(pause) => (Some(pause), StatusCode::OK),
            Mode::Jitter(max) => {
                let spread = (received.requests.wrapping_mul(2_654_435_761) % 1_000) as f64 / 1_000.0;
                (Some(max.mul_f64(spread)), StatusCode::OK)
            }
            Mode::TooManyFirst { first, retry_after: asked } if request <= first => {
                retry_after = asked;
                (None, StatusCode::TOO_MANY_REQUESTS)
            }
            Mode::TooManyFirst { .. } => (None, StatusCode::OK),
        };
        let channel = channel.unwrap_or_default();
        received.log.push(Request { at, channel, key: key.clone(), status: answer.1.as_u16() });
        answer
    };
    if status.is_success() {
        let mut guard = shared.lock().unwrap();
        let received = &mut guard.1;
        if received.keys.insert(key.clone()) {
            received.accepted.push((key, serde_json::from_str(&body).unwrap_or(Value::Null)));
        } else {
            received.redeliveries += 1;
        }
    }
    if let Some(pause) = pause {
        tokio::time::sleep(pause).await;
    }
    match retry_after {
        Some(wait) => (status, [(header::RETRY_AFTER, wait)]).into_response(),
        None => status.into_response(),
    }
}
