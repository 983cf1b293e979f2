//! `canvas outbox`: looks into the store's outbox — `list` prints its
//! entries (all, or of one state) with their attempts, due time, channel and
//! last error — `redrive` queues dead letters again for `canvas dispatch`,
//! and `cancel` takes back the touches of a run not delivered yet.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use canvas::calendar::parse_instant;
use canvas::config::CanvasConfig;
use canvas::model::now_millis;

use crate::common::cli_actor;
use canvas::store::Store;
use canvas::store::{AuditEntry, OutboxState};

#[derive(Subcommand)]
pub enum Command {
    /// List outbox entries (all, or of one state).
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        #[arg(long, value_name = "DIR")]
        store: Option<PathBuf>,
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
    match command {
        Command::List { state, store } => {
            let store = Store::open_existing(&store.unwrap_or(config.store.clone()))?;
            let calendar = config.calendar();
            let items = store.outbox_items(&calendar, state.map(OutboxState::from))?;
            println!("{:<9}  {:>8}  {:<25}  {:<10}  key / last error", "state", "attempts", "due", "channel");
            for item in &items {
                println!(
                    "{:<9}  {:>8}  {:<25}  {:<10}  {}",
                    item.state.as_str(),
                    item.attempts,
                    calendar.format(item.due_at),
                    item.channel,
                    item.key
                );
                if let Some(error) = &item.last_error {
                    println!("{:>58}{error}", "");
                }
            }
            println!("{} entries", items.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Redrive { keys, all, store } => {
            anyhow::ensure!(all || !keys.is_empty(), "name the keys to re-drive, or pass --all");
            let store = Store::open_existing(&store.unwrap_or(config.store.clone()))?;
            let count = store.redrive(&keys, now_millis())?;
            let after = serde_json::json!({ "keys": keys, "redriven": count });
            let entry =
                AuditEntry::new(now_millis(), &cli_actor(), "redrive", "dead-letters", serde_json::Value::Null, after);
            store.record_audit(&entry)?;
            println!("{count} dead letters queued again; `canvas dispatch` delivers them");
            Ok(ExitCode::SUCCESS)
        }
        Command::Cancel { strategy, run_at, store } => {
            let at = parse_instant(&run_at).map_err(|e| anyhow::anyhow!("--run-at: {e}"))?;
            let store = Store::open_existing(&store.unwrap_or(config.store.clone()))?;
            let (actor, now) = (cli_actor(), now_millis());
            let reason = format!("cancelled by {actor} at {}", config.calendar().format(now));
            let count = store.cancel_run(&strategy, at, &reason)?;
            let after = serde_json::json!({ "run_at": run_at, "cancelled": count });
            store.record_audit(&AuditEntry::new(now, &actor, "cancel", &strategy, serde_json::Value::Null, after))?;
            println!("{count} touches of {strategy}'s run at {run_at} cancelled; they will not be sent");
            Ok(ExitCode::SUCCESS)
        }
    }
}
