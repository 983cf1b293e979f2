//! `canvas serve` under clients and signals written to break it: runs stay
//! one at a time for their whole life whatever a client does, and SIGTERM
//! ends the real binary within its documented bound even mid-run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use canvas::config::CanvasConfig;
use canvas::model::{Millis, RunRecord, RunTrigger};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::service::*;
use crate::support::*;

/// `count` members, each with an order (the slow plugin's audience).
fn members_with_orders(count: usize) -> Data {
    (1..=count).fold(Data::new(), |data, i| {
        let id = format!("M{i}");
        data.member(&id, 1, "1990-06-01").order(&id, "2026-01-10T12:00:00+08:00")
    })
}

/// One member a batch, one batch at a time: the slow plugin's run lasts
/// seconds, whatever the machine's cores.
const ONE_AT_A_TIME: &str = "[run]\nbatch_size = 1\nworkers = 1\n";

/// Sends `POST /api/v1/runs` with `body` on a raw connection, and returns
/// the connection so the caller can drop it mid-request.
fn send_run_request(addr: std::net::SocketAddr, body: &str) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /api/v1/runs HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    stream
}

/// The attack of issue 30, finding 7: a client starts a run and hangs up
/// mid-request, then a second run is asked for. Had the second run started
/// while the first was still deciding, it would not have seen the first
/// one's touches, and would have sent every member a second touch a day
/// later, which the 48 h gap forbids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_client_hangs_up_finishes_alone_and_the_next_run_sees_its_touches() {
    const MEMBERS: usize = 40;
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &members_with_orders(MEMBERS));
    install(&store, &[test_plugin("slow")]);
    let s = start_at(service_config(&dir, "", ONE_AT_A_TIME), store, "2026-03-01T08:00:00+08:00", 1.0).await;

    // Days ahead of the service's clock: forced (see docs/operations.md, the rules).
    let first =
        send_run_request(s.service.addr, &json!({ "at": "2026-03-02T10:00:00+08:00", "force": true }).to_string());
    wait_for_metric(&s, "canvas_runs_in_flight 1").await;
    drop(first); // the client hangs up while its run is deciding

    let (status, second) =
        s.post("/api/v1/runs", json!({ "at": "2026-03-03T10:00:00+08:00", "force": true }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{second}");

    let (_, runs) = s.get("/api/v1/runs").await;
    let history: Vec<(&str, u64)> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["run_at"].as_str().unwrap(), r["decisions"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        history,
        [("2026-03-03T10:00:00+08:00", MEMBERS as u64), ("2026-03-02T10:00:00+08:00", MEMBERS as u64)],
        "the hung-up client's run went on to the end and is in the history"
    );
    let mut statuses: BTreeMap<(String, String), usize> = BTreeMap::new();
    let calendar = canvas::config::CanvasConfig::default().calendar();
    for decision in s.store.decisions().unwrap() {
        *statuses.entry((calendar.format(decision.run_at), format!("{:?}", decision.status))).or_default() += 1;
    }
    let expected = BTreeMap::from([
        (("2026-03-02T10:00:00+08:00".to_string(), "Dispatched".to_string()), MEMBERS),
        (("2026-03-03T10:00:00+08:00".to_string(), "Deferred".to_string()), MEMBERS),
    ]);
    assert_eq!(statuses, expected, "the second run saw the first one's touches: the 48 h gap deferred every one");
    s.service.shutdown().await.unwrap();
}

async fn wait_for_metric(s: &Running, line: &str) {
    s.eventually(line, async |s: &Running| {
        let metrics = s.client.get(s.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap().text().await.unwrap();
        metrics.lines().any(|l| l == line)
    })
    .await;
}

/// Runs outlive their clients, so hanging up no longer empties the queue:
/// a client firing run requests and hanging up at once could otherwise
/// queue days of runs, the scheduled ones waiting behind them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_eight_runs_asked_for_over_the_api_wait_and_none_starts_once_the_service_stops() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &members_with_orders(40));
    install(&store, &[test_plugin("slow")]);
    let s = start_at(service_config(&dir, "", ONE_AT_A_TIME), store, "2026-03-01T08:00:00+08:00", 1.0).await;
    let at = |day: usize| json!({ "at": format!("2026-03-{day:02}T10:00:00+08:00"), "force": true }).to_string();
    let first = send_run_request(s.service.addr, &at(2));
    wait_for_metric(&s, "canvas_runs_in_flight 1").await;
    let queued: Vec<_> = (3..11).map(|day| send_run_request(s.service.addr, &at(day))).collect();
    wait_for_metric(&s, "canvas_runs_waiting 8").await;
    drop((first, queued)); // every client hangs up

    let (status, refused) = s.post("/api/v1/runs", at(11)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    assert!(refused["error"].as_str().unwrap().starts_with("8 runs already wait for their turn"), "{refused}");

    let store = s.store.clone();
    s.service.shutdown().await.unwrap();
    let ran: Vec<String> =
        store.runs().unwrap().iter().map(|r| CanvasConfig::default().calendar().format(r.run_at)).collect();
    assert_eq!(ran, ["2026-03-02T10:00:00+08:00"], "the run in flight finished; none waiting started after the stop");
}

/// `canvas serve`, the real binary, with its stdout and stderr collected.
pub(crate) struct Served {
    child: std::process::Child,
    pub(crate) addr: String,
    pub(crate) stdout: Arc<Mutex<String>>,
    pub(crate) stderr: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `canvas serve --config config` on a free port; waits until it listens.
    fn start(config: &Path) -> Served {
        Served::start_with(config, &[])
    }

    pub(crate) fn start_with(config: &Path, args: &[&str]) -> Served {
        let mut child = canvas()
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .args(args)
            .env_remove("CANVAS_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let collect = |pipe: Box<dyn std::io::Read + Send>| {
            let text = Arc::new(Mutex::new(String::new()));
            let sink = text.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut text = sink.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            });
            text
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.stderr.take().unwrap()));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = stdout.lock().unwrap().clone();
            if let Some(rest) = out.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap().to_string();
                return Served { child, addr, stdout, stderr };
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("canvas serve exited ({status}): {}", stderr.lock().unwrap());
            }
            assert!(Instant::now() < deadline, "canvas serve did not start: {}", stderr.lock().unwrap());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The token the service generated, from the file its stdout names.
    fn token(&self, expected_file: &Path) -> String {
        let out = self.stdout.lock().unwrap().clone();
        let named = out.split("token is in ").nth(1).and_then(|rest| rest.split(" (").next());
        assert_eq!(named, Some(expected_file.to_str().unwrap()), "{out}");
        let token = std::fs::read_to_string(expected_file).unwrap().trim().to_string();
        assert!(!out.contains(&token), "the token itself is never printed");
        token
    }

    pub(crate) fn terminate(&self) -> Instant {
        let sent = Instant::now();
        let killed = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        assert!(killed.unwrap().success());
        sent
    }

    /// Waits until it exits, at most `bound`; kills it and fails past that.
    pub(crate) fn exits_within(&mut self, bound: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("still running {bound:?} after SIGTERM: {}", self.stderr.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// An hourly schedule on the real clock: the last scheduled run recorded
/// three hours back, so the service starts by catching up three runs.
fn catch_up_fixture(dir: &TempDir, members: usize) -> (Millis, Vec<Millis>) {
    let store = store_with(dir, &members_with_orders(members));
    install(&store, &[test_plugin("slow")]);
    let hour = 3_600_000;
    let now = canvas::model::now_millis();
    let last = now - now.rem_euclid(hour) - 3 * hour;
    let calendar = CanvasConfig::default().calendar();
    let record = RunRecord::starting("slow", RunTrigger::Schedule, ("0.1.0", ""), last, calendar.day_of(last));
    store.record_run(&record).unwrap();
    store.flush().unwrap();
    (last, (1..=3).map(|h| last + h * hour).collect())
}

fn binary_config(dir: &TempDir, spins: u64) -> std::path::PathBuf {
    let path = dir.path().join(format!("canvas-{spins}.toml"));
    let text = format!(
        "store = {:?}\n\
         [run]\nbatch_size = 1\nworkers = 1\n\
         [governance]\nholdout_percent = 0\n\
         [serve]\nshutdown_grace_ms = {GRACE_MS}\nshutdown_flush_ms = {FLUSH_MS}\ndispatch_interval_ms = 100\n\
         [dispatch.channels.\"*\"]\nkind = \"file\"\npath = {:?}\n\
         [strategies.slow]\nschedule = \"0 * * * *\"\nconfig = {{ spins_per_member = {spins} }}\n",
        dir.path().join("store").display().to_string(),
        dir.path().join("touches.jsonl").display().to_string(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

const GRACE_MS: u64 = 1_000;
const FLUSH_MS: u64 = 1_000;

/// Finding 7's shutdown half, against the real binary: a catch-up run that
/// would take half a minute is in flight, a client waits for a run queued
/// behind it, another sends an upload at a trickle. SIGTERM ends the
/// service within `shutdown_grace_ms` + a second to answer + `shutdown_flush_ms`
/// (plus room for the store's last flush and the process's exit); the run cut
/// short was not recorded, and the next start catches it up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_service_within_its_bound_mid_run_and_the_cut_run_is_caught_up_at_the_next_start() {
    let dir = TempDir::new().unwrap();
    let (last, missed) = catch_up_fixture(&dir, 400);
    let mut served = Served::start(&binary_config(&dir, 50_000_000));
    let token = served.token(&dir.path().join("store").join("serve-token"));
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", served.addr);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = client.get(url("/metrics")).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
        if metrics.contains("canvas_runs_in_flight 1") {
            break;
        }
        assert!(Instant::now() < deadline, "the catch-up run never started: {}", served.stderr.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let addr: std::net::SocketAddr = served.addr.parse().unwrap();
    let mut waiting = std::net::TcpStream::connect(addr).unwrap();
    let body = r#"{"strategies": ["slow"]}"#;
    write!(
        waiting,
        "POST /api/v1/runs HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut trickle = std::net::TcpStream::connect(addr).unwrap();
    write!(
        trickle,
        "POST /api/v1/plugins HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 1000000\r\n\r\n\0asm"
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    served.terminate();
    let bound = Duration::from_millis(GRACE_MS + 1_000 + FLUSH_MS) + Duration::from_secs(5);
    let status = served.exits_within(bound);
    assert!(status.success(), "{status}: {}", served.stderr.lock().unwrap());
    let stderr = served.stderr.lock().unwrap().clone();
    assert!(stderr.contains("the run in flight was stopped within shutdown_grace_ms (1000 ms)"), "{stderr}");
    let mut answer = String::new();
    waiting.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = waiting.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "the client waiting for a run is told: {answer}");
    assert!(answer.contains("the service is stopping: no new runs start"), "its run never started: {answer}");

    let store = canvas::store::Store::open(&dir.path().join("store")).unwrap();
    let recorded: Vec<Millis> = store.runs().unwrap().iter().map(|r| r.run_at).collect();
    assert_eq!(recorded, [last], "the run cut short was not recorded");
    drop(store);

    // The next start catches up the cut run, and the two after it.
    let mut again = Served::start(&binary_config(&dir, 0));
    let calendar = CanvasConfig::default().calendar();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs: Value = client
            .get(format!("http://{}/api/v1/runs", again.addr))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let caught_up: Vec<&str> = runs
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["trigger"] == "catch-up")
            .map(|r| r["run_at"].as_str().unwrap())
            .collect();
        if missed.iter().all(|&at| caught_up.contains(&calendar.format(at).as_str())) {
            break;
        }
        assert!(Instant::now() < deadline, "not every missed run was caught up: {runs}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    again.terminate();
    assert!(again.exits_within(bound).success());
}

/// A plugin looping with fuel and time to spare is in flight when the
/// service stops: past the grace its call is cut within a tick, the run
/// unwinds without recording anything, and its client is told so — the
/// service does not leave it running behind its back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cuts_the_plugin_call_in_flight_past_the_grace_and_records_nothing_of_its_run() {
    let dir = TempDir::new().unwrap();
    let store = store_with(&dir, &members_with_orders(2));
    install(&store, &[test_plugin("forever-loop")]);
    let sandbox = "[sandbox]\nfuel = 1_000_000_000_000_000\ndeadline_ms = 600_000\n";
    let config = service_config(&dir, "shutdown_grace_ms = 300", sandbox);
    let s = start_at(config, store, "2026-03-01T08:00:00+08:00", 1.0).await;
    let (client, url) = (s.client.clone(), s.url("/api/v1/runs"));
    let body = json!({ "at": "2026-03-02T10:00:00+08:00", "force": true }).to_string();
    let asked = tokio::spawn(async move { client.post(url).bearer_auth(TOKEN).body(body).send().await.unwrap() });
    wait_for_metric(&s, "canvas_runs_in_flight 1").await;

    let store = s.store.clone();
    let stopping = Instant::now();
    s.service.shutdown().await.unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(60), "the ten-minute call did not hold the service up");
    let answer = asked.await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let error = answer.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
    assert!(error.contains("was stopped and nothing of it was recorded"), "{error}");
    assert!(error.contains("plugin forever-loop 0.1.0 was stopped: the host is shutting down"), "{error}");
    assert!(store.runs().unwrap().is_empty(), "no run record");
    assert!(store.decisions().unwrap().is_empty(), "no decision");
}
