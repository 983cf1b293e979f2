//! `[serve]`: how `canvas serve` listens, authenticates, catches up and
//! shuts down. Its own type, so the canvas config can hold it without
//! depending on the service.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[serve]` in the canvas config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeSettings {
    /// The admin API's address, `host:port`; loopback (`127.0.0.1:8720`) unless set.
    pub listen: String,
    /// The admin API's bearer token (the `CANVAS_TOKEN` environment variable
    /// takes precedence). Required on a non-loopback address; on a loopback
    /// one, a token is generated into `token_file` when none is set.
    pub token: Option<String>,
    /// Where the generated token is kept (default: `serve-token` in the store).
    pub token_file: Option<PathBuf>,
    /// Serve the admin API without any token (loopback addresses only), for
    /// local development. `canvas serve --no-token` sets it.
    pub allow_no_token: bool,
    /// On start, run the scheduled runs missed while down (else skip them).
    pub catch_up: bool,
    /// How far back catching up reaches.
    pub catch_up_days: u32,
    /// How often the dispatcher looks for due touches.
    pub dispatch_interval_ms: u64,
    /// How long shutdown waits for the run in flight (and open requests)
    /// before it stops without them.
    pub shutdown_grace_ms: u64,
    /// How long shutdown may spend delivering what is due.
    pub shutdown_flush_ms: u64,
    /// An event ingested so late that a trigger's firing was due more than
    /// this many minutes before it came in fires nothing: that is history
    /// being loaded, not a member acting now.
    pub trigger_late_minutes: u32,
    /// More tokens, by name (`[serve.tokens.<name>]`): the name is what the
    /// audit log records as who made a change; a `read_only` token may look
    /// but not change. The token above (or generated) is named `admin`.
    pub tokens: BTreeMap<String, NamedToken>,
    /// `text` (default) or `json`: how the service logs, on stderr.
    pub log_format: LogFormat,
    /// Where the service writes the decisions it compacts, one file a
    /// compaction (`decisions-before-YYYY-MM-DD.jsonl`): after a scheduled
    /// run, once every `compact_every_days`, it keeps the fewest days
    /// `canvas compact` allows. Off when absent.
    pub compact_export_dir: Option<PathBuf>,
    /// How many days apart the service compacts (at least 1).
    pub compact_every_days: u32,
}

/// One of `[serve.tokens]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedToken {
    /// The bearer token.
    pub token: String,
    /// May only read (GET): every change is refused with 403.
    #[serde(default)]
    pub read_only: bool,
}

/// How the service writes its log lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One line per event, for people.
    #[default]
    Text,
    /// One JSON object per event, for log collectors.
    Json,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            listen: "127.0.0.1:8720".into(),
            token: None,
            token_file: None,
            allow_no_token: false,
            catch_up: true,
            catch_up_days: 7,
            dispatch_interval_ms: 1_000,
            shutdown_grace_ms: 10_000,
            shutdown_flush_ms: 10_000,
            trigger_late_minutes: 60,
            tokens: BTreeMap::new(),
            log_format: LogFormat::Text,
            compact_export_dir: None,
            compact_every_days: 7,
        }
    }
}
