//! Event triggers in the service, measured end to end: a real `canvas serve`
//! (in this process, on 127.0.0.1:0) over an imported member base, the
//! `trigger-echo` test plugin reacting at once to each `ping` event with one
//! message, and a webhook receiver on 127.0.0.1:0 taking the touches. Events
//! are posted to `POST /api/v1/events` at a steady rate, each to another
//! member, in batches every 10 ms; the latency of an event is from just
//! before its batch was posted to when its touch reached the receiver —
//! ingest, the firing, governance, the record's flush and the delivery.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use canvas::app::App;
use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::model::DecisionStatus;
use canvas::registry::Registry;
use canvas::serve::{self, Clock, ScaledClock};
use canvas::store::Store;

/// What one measurement gave.
pub struct Latency {
    pub sent: usize,
    pub delivered: usize,
    /// Firings decided but not sent: governance suppressed or held them
    /// (a member who unsubscribed, say) — not lost.
    pub not_sent: u64,
    /// Firings whose touch waits for the member's morning (quiet hours in
    /// their time zone).
    pub deferred: u64,
    /// Events per second actually posted.
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// How long an ingest request took, p50 and p99.
    pub ingest_p50_ms: f64,
    pub ingest_p99_ms: f64,
    /// Loading the member base at the first firing (the warm-up).
    pub warm_up: Duration,
}

/// The service's clock at the start: tomorrow's noon in Shanghai, out of the
/// brand's quiet hours and after the real clock (the dispatcher sends what
/// is due by either, so a start in the past would send a touch deferred to
/// a member's morning at once).
fn clock_start() -> anyhow::Result<canvas::model::Millis> {
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    let tomorrow = chrono::Utc::now().with_timezone(&shanghai).date_naive() + chrono::Days::new(1);
    let noon = tomorrow.and_hms_opt(12, 0, 0).expect("a valid time").and_local_timezone(shanghai).unwrap();
    parse_instant(&noon.to_rfc3339()).map_err(anyhow::Error::msg)
}

/// Arrival instants by event id, kept by the receiver.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// Posts `rate` events a second for `seconds` to a service over `data`
/// (a folder of CSV files), one member each (so no cap holds a touch back).
pub fn measure(
    root: &Path,
    work: &Path,
    data: &Path,
    rate: u32,
    seconds: u32,
    base: &CanvasConfig,
) -> anyhow::Result<Latency> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(measure_async(root, work, data, rate, seconds, base))
}

async fn measure_async(
    root: &Path,
    work: &Path,
    data: &Path,
    rate: u32,
    seconds: u32,
    base: &CanvasConfig,
) -> anyhow::Result<Latency> {
    let store_dir = work.join("store-triggers");
    let _ = std::fs::remove_dir_all(&store_dir);
    let store = Store::open(&store_dir)?;
    let parsed = canvas::import::read_dir(data)?;
    let start = clock_start()?;
    // Members who have joined by then (a firing for a later one decides nothing).
    let members: Vec<String> =
        parsed.data.members.iter().filter(|m| m.joined_at < start).map(|m| m.id.clone()).collect();
    store.import(&parsed)?;
    drop(parsed);
    let wasm = root.join("target/test-plugins/trigger-echo.wasm");
    let wasm = std::fs::read(&wasm).with_context(|| format!("{}: run `make test-plugins`", wasm.display()))?;
    let app = App::new(base.clone())?;
    let registry = Registry::new(&store, &app.engine);
    let installed = registry.install("bench", &wasm, &|_| Default::default(), 0)?;
    registry.set_enabled(&installed.id, true, &Default::default(), 0)?;

    let arrivals: Arrivals = Arc::default();
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}/", receiver.local_addr()?);
    let kept = arrivals.clone();
    let app_router = axum::Router::new().route(
        "/",
        axum::routing::post(move |axum::Json(touch): axum::Json<Value>| {
            let kept = kept.clone();
            async move {
                if let Some(id) = touch["variables"]["event_id"].as_str() {
                    kept.lock().unwrap().insert(id.to_string(), Instant::now());
                }
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(receiver, app_router).await });

    let mut config = CanvasConfig::parse(&format!(
        "[governance]\nholdout_percent = 0\n[serve]\ntoken = \"bench\"\ndispatch_interval_ms = 50\n\
         [dispatch]\nconcurrency = 64\n[dispatch.channels.\"*\"]\nkind = \"webhook\"\nurl = \"{receiver_url}\"\n"
    ))?;
    config.compile_cache = base.compile_cache.clone();
    let calendar = config.calendar();
    let clock = Arc::new(ScaledClock::new(start, 1.0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let store = Arc::new(store);
    let service = serve::start(App::new(config)?, store.clone(), clock.clone(), listener).await?;
    let ingest = format!("http://{}/api/v1/events", service.addr);
    let client = reqwest::Client::new();
    let event = |id: &str, member: &str| json!({ "event_id": id, "member_id": member, "kind": "ping", "at": calendar.format(clock.now()), "attrs": {} });

    // Warm-up: the first firing loads the member base.
    let warming = Instant::now();
    post(&client, &ingest, &[event("warm-up", &members[0])]).await?;
    wait_for(&arrivals, 1, Duration::from_secs(600)).await;
    let warm_up = warming.elapsed();

    let per_tick = (rate / 100).max(1) as usize;
    let ticks = seconds as usize * 100;
    anyhow::ensure!(
        per_tick * ticks < members.len(),
        "{} members: too few for {} events",
        members.len(),
        per_tick * ticks
    );
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut posts = Vec::new();
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    for tick in 0..ticks {
        interval.tick().await;
        let batch: Vec<Value> = (0..per_tick)
            .map(|i| {
                let n = tick * per_tick + i;
                event(&format!("E{n}"), &members[n + 1])
            })
            .collect();
        let now = Instant::now();
        for e in &batch {
            sent_at.insert(e["event_id"].as_str().expect("an id").to_string(), now);
        }
        let (client, ingest) = (client.clone(), ingest.clone());
        posts.push(tokio::spawn(async move { post(&client, &ingest, &batch).await }));
    }
    let mut requests = Vec::new();
    for p in posts {
        requests.push(p.await??.as_secs_f64() * 1000.0);
    }
    requests.sort_by(f64::total_cmp);
    let posting = started.elapsed();
    // Until every event's touch arrived or its decision says it will not
    // come now (unsubscribed, quiet hours): the patience is for a stall.
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let mut held = 0;
        store.each_decision(|d, _| held += usize::from(d.status != DecisionStatus::Dispatched))?;
        if arrivals.lock().unwrap().len() > sent_at.len() - held {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    service.shutdown().await?;
    // Governance's own word on the firings whose touch did not go out at
    // once: a member who unsubscribed, or in quiet hours where they live.
    let (mut not_sent, mut deferred) = (0, 0);
    store.each_decision(|d, _| match d.status {
        DecisionStatus::Dispatched => {}
        DecisionStatus::Deferred => deferred += 1,
        _ => not_sent += 1,
    })?;

    let arrived = arrivals.lock().unwrap();
    let mut latencies: Vec<f64> = sent_at
        .iter()
        .filter_map(|(id, sent)| arrived.get(id).map(|at| at.duration_since(*sent).as_secs_f64() * 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    Ok(Latency {
        sent: sent_at.len(),
        delivered: latencies.len(),
        not_sent,
        deferred,
        rate: sent_at.len() as f64 / posting.as_secs_f64(),
        p50_ms: quantile(&latencies, 0.5),
        p99_ms: quantile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        ingest_p50_ms: quantile(&requests, 0.5),
        ingest_p99_ms: quantile(&requests, 0.99),
        warm_up,
    })
}

/// Posts `events`; how long the request took.
async fn post(client: &reqwest::Client, url: &str, events: &[Value]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = client.post(url).bearer_auth("bench").json(&events).send().await?;
    anyhow::ensure!(response.status().is_success(), "ingest answered {}", response.text().await?);
    Ok(started.elapsed())
}

/// The `q` quantile of sorted figures.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied().unwrap_or(f64::NAN)
}

async fn wait_for(arrivals: &Arrivals, count: usize, patience: Duration) {
    let deadline = Instant::now() + patience;
    while arrivals.lock().unwrap().len() < count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
