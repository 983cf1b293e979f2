//! `canvas outbox`: looks into the store's outbox — `list` prints its
//! entries (all, or of one state) with their attempts, due time, channel and
//! last error, `status` each channel's backlog (due now, later, and how long
//! it takes at the channel's rate) — `redrive` queues dead letters again for
//! `canvas dispatch`, and `cancel` takes back the touches of a run not
//! delivered yet; on the store, or through the service holding it (`reach`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::model::now_millis;

use canvas::app::App;
use canvas::dispatch::{backlog, ChannelBacklog};
use canvas::store::{AuditEntry, OutboxState};
use serde_json::{json, Value};

use crate::common::{cli_actor, OutputFormat};
use crate::reach::{store_or_service, Reach};

#[derive(Subcommand)]
pub enum Command {
    /// List outbox entries (all, or of one state).
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
    /// Each channel's backlog: touches due now and later, and how long those due take at the channel's rate.
    Status {
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
        /// `table` for people, `json` for scripts (as `GET /api/v1/outbox/status`).
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
    },
    /// Queue dead letters again: the keys given, or all of them.
    Redrive {
        keys: Vec<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "keys")]
        all: bool,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
    /// Take back the touches of one run that are not delivered yet: they are never sent.
    Cancel {
        /// The strategy whose run it was.
        #[arg(long, value_name = "ID")]
        strategy: String,
        /// The run's instant, RFC 3339, as the run history shows it.
        #[arg(long, value_name = "INSTANT")]
        run_at: String,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum StateArg {
    Pending,
    Delivered,
    Dead,
    Cancelled,
}

impl From<StateArg> for OutboxState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::Pending => OutboxState::Pending,
            StateArg::Delivered => OutboxState::Delivered,
            StateArg::Dead => OutboxState::Dead,
            StateArg::Cancelled => OutboxState::Cancelled,
        }
    }
}

pub fn execute(command: Command, config: &CanvasConfig) -> anyhow::Result<ExitCode> {
    let store_path = match &command {
        Command::List { store, .. }
        | Command::Status { store, .. }
        | Command::Redrive { store, .. }
        | Command::Cancel { store, .. } => store,
    };
    let reach = store_or_service(&store_path.clone().unwrap_or(config.store.clone()), config)?;
    match command {
        Command::List { state, .. } => {
            let items = match reach {
                Reach::Store(store) => {
                    let app = App::new(config.clone())?;
                    let items = store.outbox_items(&config.calendar(), state.map(OutboxState::from))?;
                    items.iter().map(|i| app.outbox_item_shown(i)).collect()
                }
                Reach::Service(service) => {
                    let query = state.map(|s| format!("?state={}", OutboxState::from(s).as_str())).unwrap_or_default();
                    serde_json::from_value::<Vec<Value>>(service.get(&format!("/api/v1/outbox{query}"))?)?
                }
            };
            println!("{:<9}  {:>8}  {:<25}  {:<10}  key / last error", "state", "attempts", "due", "channel");
            for item in &items {
                let [state, due, channel, key] =
                    ["state", "due_at", "channel", "key"].map(|k| item[k].as_str().unwrap_or(""));
                println!("{state:<9}  {:>8}  {due:<25}  {channel:<10}  {key}", item["attempts"].as_u64().unwrap_or(0));
                if let Some(error) = item["last_error"].as_str() {
                    println!("{:>58}{error}", "");
                }
            }
            println!("{} entries", items.len());
        }
        Command::Status { format, .. } => {
            let backlog: Vec<ChannelBacklog> = match reach {
                // Pauses a 429 asked for live in the dispatcher that was
                // told, the service's: a store not held by one has none.
                Reach::Store(store) => {
                    let calendar = config.calendar();
                    backlog(&store, &config.dispatch, now_millis(), |_| None, |at| calendar.format(at))?
                }
                Reach::Service(service) => serde_json::from_value(service.get("/api/v1/outbox/status")?)?,
            };
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string(&backlog)?),
                OutputFormat::Table => print_backlog(&backlog),
            }
        }
        Command::Redrive { keys, all, .. } => {
            anyhow::ensure!(all || !keys.is_empty(), "name the keys to re-drive, or pass --all");
            let (count, delivers) = match reach {
                Reach::Store(store) => {
                    let count = store.redrive(&keys, now_millis())?;
                    let after = json!({ "keys": keys, "redriven": count });
                    let entry =
                        AuditEntry::new(now_millis(), &cli_actor(), "redrive", "dead-letters", Value::Null, after);
                    store.record_audit(&entry)?;
                    (count as u64, "`canvas dispatch` delivers them")
                }
                Reach::Service(service) => {
                    let body = (!all).then(|| json!({ "keys": keys }));
                    let answer = service.post("/api/v1/dead-letters/redrive", body.as_ref())?;
                    (answer["redriven"].as_u64().unwrap_or(0), "the service delivers them")
                }
            };
            println!("{count} dead letters queued again; {delivers}");
        }
        Command::Cancel { strategy, run_at, .. } => {
            let at = parse_instant(&run_at).map_err(|e| anyhow::anyhow!("--run-at: {e}"))?;
            let count = match reach {
                Reach::Store(store) => {
                    let (actor, now) = (cli_actor(), now_millis());
                    let reason = format!("cancelled by {actor} at {}", config.calendar().format(now));
                    let count = store.cancel_run(&strategy, at, &reason)?;
                    let after = json!({ "run_at": run_at, "cancelled": count });
                    store.record_audit(&AuditEntry::new(now, &actor, "cancel", &strategy, Value::Null, after))?;
                    count as u64
                }
                Reach::Service(service) => {
                    let body = json!({ "strategy": strategy, "at": run_at });
                    service.post("/api/v1/runs/cancel", Some(&body))?["cancelled"].as_u64().unwrap_or(0)
                }
            };
            println!("{count} touches of {strategy}'s run at {run_at} cancelled; they will not be sent");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per channel: `wecom  12400 due, 3 later, drains in ~1 min 15 s at 10000/min`.
fn print_backlog(backlog: &[ChannelBacklog]) {
    if backlog.is_empty() {
        println!("nothing pending in the outbox");
        return;
    }
    let width = backlog.iter().map(|b| b.channel.len()).max().unwrap_or(0);
    for channel in backlog {
        println!("{:<width$}  {}", channel.channel, channel.summary());
    }
}
