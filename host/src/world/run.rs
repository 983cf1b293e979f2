//! The closed loop: generated members in a real store, real plugins
//! installed, the real service (`serve::start`) on 127.0.0.1:0 with a
//! [`SteppedClock`], and the world as its webhook sink.
//!
//! Day after day the loop sends the day's background orders, then steps the
//! clock to each scheduled run instant of the day and waits until the
//! service has run every strategy due there (their run records) and
//! delivered every touch due (the outbox backlog), then settles the world,
//! whose reactions go back through the ingest API before the clock moves on.
//! So each run sees exactly what happened by its instant, whatever the
//! machine's speed, and one seed gives one set of results.
//!
//! The days must be in the past: dispatch sends a deferred touch once its
//! `send_at` has passed on the wall clock or the service's, and only past
//! days make every touch of an instant due at that instant. The results
//! are asked for the touches of the first `days − attribution_days` days,
//! whose windows all close inside the loop.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;

use super::ingest::Ingest;
use super::{receiver, table, Plan, World, WorldCounts};
use crate::app::App;
use crate::calendar::{date_of_day, day_number, BrandCalendar};
use crate::config::CanvasConfig;
use crate::dispatch::{ChannelConfig, SinkConfig};
use crate::model::Millis;
use crate::registry::Registry;
use crate::results::{Dimension, Results, ResultsQuery};
use crate::schedule::Schedule;
use crate::serve::{self, SteppedClock};
use crate::store::Store;

/// The longest the loop waits for the service to finish an instant's runs
/// and deliveries: far beyond any small loop's need; a hang is reported.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);
/// The loop's own API token (the service listens on loopback only).
const TOKEN: &str = "closed-loop";

/// What a loop runs.
pub struct LoopOptions {
    /// Members to generate.
    pub members: u32,
    /// Months of history before the loop's first day.
    pub history_months: u32,
    /// The generator's seed (the world's is in the plan).
    pub data_seed: u64,
    /// The first day the service runs.
    pub start: NaiveDate,
    /// Days it runs; more than `[report] attribution_days`.
    pub days: u32,
    /// What is planted.
    pub plan: Plan,
    /// The plugin files to install and enable (the strategies that run).
    pub plugins: Vec<PathBuf>,
    /// `[governance] holdout_percent` for the loop: larger holdouts give narrower intervals.
    pub holdout_percent: f64,
    /// A folder for the generated data and the store.
    pub work: PathBuf,
    /// The config the loop's own settings are laid over (attribution window, governance, time zone).
    pub config: CanvasConfig,
}

/// What a loop came to.
pub struct LoopOutcome {
    /// The live results of the measured days, by strategy.
    pub results: Results,
    /// Planted against measured, per strategy.
    pub rows: Vec<table::PlantedVsMeasured>,
    /// What the world did.
    pub counts: WorldCounts,
    /// The plan it stood by.
    pub plan: Plan,
}

/// Runs the loop; `progress` is told each day as it ends.
pub async fn run_loop(options: LoopOptions, progress: &mut (dyn FnMut(&str) + Send)) -> anyhow::Result<LoopOutcome> {
    let mut config = options.config.clone();
    let attribution = config.report.attribution_days;
    options.plan.check(attribution)?;
    anyhow::ensure!(
        options.days > attribution,
        "--days {} must be more than the attribution window ({attribution} days): results are measured over the \
         days whose windows close inside the loop",
        options.days
    );
    let calendar = config.calendar();
    let first = day_number(options.start);
    let last = first + options.days as i32 - 1;
    anyhow::ensure!(
        calendar.start_of(date_of_day(last + 1)) <= crate::model::now_millis(),
        "the loop's last day {} is not past yet: the loop runs over past days only, where every touch of an \
         instant is due at that instant",
        date_of_day(last)
    );

    let data = options.work.join("data");
    let end = options.start.pred_opt().context("the day before the start")?;
    let generate = canvas_generate::GenerateOptions {
        members: options.members,
        months: options.history_months,
        seed: options.data_seed,
        end,
    };
    canvas_generate::generate(&generate, &data).context("generating the members")?;
    let store = Arc::new(Store::open(&options.work.join("store"))?);
    store.import(&crate::import::read_dir(&data)?).context("importing the generated data")?;
    let dataset = store.dataset()?;
    let members = dataset.members.iter().map(|m| m.id.clone()).collect();
    let world = Arc::new(World::new(options.plan.clone(), calendar, members, &dataset.products)?);
    drop(dataset);
    let receiver = receiver::start(world.clone()).await?;

    let sink = ChannelConfig { sink: SinkConfig::Webhook { url: receiver.url.clone() }, rate_per_minute: None };
    config.dispatch.channels = BTreeMap::from([("*".to_string(), sink)]);
    config.governance.holdout_percent = options.holdout_percent;
    config.serve.token = Some(TOKEN.to_string());
    config.serve.dispatch_interval_ms = 20;
    config.serve.catch_up = false;
    config.store = options.work.join("store");
    let app = App::new(config.clone())?;
    let schedules = install(&app, &store, &options.plugins)?;

    let clock = Arc::new(SteppedClock::new(calendar.start_of(options.start)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let service = serve::start(app, store.clone(), clock.clone(), listener).await?;
    let ingest = Ingest::new(format!("http://{}", service.addr), Some(TOKEN.to_string()));
    let stepped = async {
        for day in first..=last {
            ingest.send(&world.background(day)).await.context("sending the day's background orders")?;
            let (from, until) = (calendar.start_of(date_of_day(day)), calendar.start_of(date_of_day(day + 1)));
            let mut due: BTreeMap<Millis, Vec<&str>> = BTreeMap::new();
            for (id, schedule) in &schedules {
                for at in schedule.runs_between(&calendar, from, until) {
                    due.entry(at).or_default().push(id);
                }
            }
            for (at, ids) in due {
                clock.set(at);
                settle(&store, &calendar, at, &ids).await?;
                ingest.send(&world.settle()).await.context("sending the world's reactions")?;
            }
            progress(&format!("{} done", date_of_day(day)));
        }
        anyhow::Ok(())
    }
    .await;
    clock.set(calendar.start_of(date_of_day(last + 1)));
    service.shutdown().await?;
    drop(receiver);
    stepped?;

    let base = App::new(config.clone())?.member_base(store.dataset()?);
    let query = ResultsQuery { from: first, to: last - attribution as i32, by: vec![Dimension::Strategy] };
    let results = Results::of_store(&base, &store, &query, &config.report, &config.results)?;
    let ids: Vec<String> = schedules.iter().map(|(id, _)| id.clone()).collect();
    let rows = table::planted_vs_measured(&options.plan, &ids, &results);
    Ok(LoopOutcome { results, rows, counts: world.counts(), plan: options.plan })
}

/// Installs and enables `plugins`; their ids and schedules (the config's
/// override, else the plugin's own), in id order.
fn install(app: &App, store: &Store, plugins: &[PathBuf]) -> anyhow::Result<Vec<(String, Schedule)>> {
    let registry: Registry<'_> = app.registry(store);
    let now = crate::model::now_millis();
    for file in plugins {
        let wasm = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let installed = registry
            .install("canvas loop", &wasm, &|id| app.settings(id), now)
            .with_context(|| format!("installing {}", file.display()))?;
        registry.set_enabled(&installed.id, true, &app.settings(&installed.id), now)?;
    }
    let mut schedules = Vec::new();
    for entry in registry.list()? {
        let expression = app.schedule_of(&entry);
        let schedule =
            Schedule::parse(&expression).map_err(|e| anyhow::anyhow!("{}: schedule `{expression}`: {e}", entry.id))?;
        schedules.push((entry.id, schedule));
    }
    Ok(schedules)
}

/// Waits until each of `ids` has a run at `at` in the run history and no
/// touch due is left in the outbox.
async fn settle(store: &Store, calendar: &BrandCalendar, at: Millis, ids: &[&str]) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let runs = store.runs()?;
        let ran = ids.iter().all(|id| runs.iter().any(|r| r.strategy == *id && r.run_at == at));
        let now = crate::model::now_millis().max(at);
        if ran && store.outbox_backlog(now)?.iter().all(|c| c.due == 0) {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < SETTLE_TIMEOUT,
            "the service did not finish the runs of {} ({}) and their deliveries within {} s",
            calendar.format(at),
            ids.join(", "),
            SETTLE_TIMEOUT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
