//! Reacts to events of the configured `kind` — after `delay_minutes`, only
//! those with every attribute in `requires`, called off by a later event of
//! `unless_kind` (with the same `same_attr`) or by an order when
//! `unless_ordered` — with one message on `channel` whose variables echo the
//! triggering event (id, kind, instant) and the call's instant, so a test or
//! the latency benchmark can read what fired and when. It never runs on a
//! schedule. A second copy under another id (`id_suffix`) is not possible:
//! the id is the plugin's; tests install `trigger-echo` beside the shipped
//! triggered strategies instead.

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub kind: String,
    pub delay_minutes: u32,
    pub requires: Vec<String>,
    pub unless_kind: Option<String>,
    pub same_attr: Option<String>,
    pub unless_ordered: bool,
    pub channel: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            kind: "ping".into(),
            delay_minutes: 0,
            requires: Vec::new(),
            unless_kind: None,
            same_attr: None,
            unless_ordered: false,
            channel: "app-push".into(),
        }
    }
}

pub struct TriggerEcho;

impl Strategy for TriggerEcho {
    const ID: &'static str = "trigger-echo";
    const NAME: &'static str = "Echoes its triggering event (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "One message per event of the configured kind, echoing the event.";
    const SCHEDULE: &'static str = ONLY_ON_TRIGGERS;
    type Config = Config;

    fn check(c: &Config) -> Result<(), String> {
        if c.kind.is_empty() {
            return Err("kind: must not be empty".into());
        }
        check::channel("channel", &c.channel)
    }

    fn audience(c: &Config) -> Audience {
        let mut trigger =
            on_event(&c.kind).after_minutes(c.delay_minutes).requires(c.requires.iter().map(String::as_str));
        if let Some(kind) = &c.unless_kind {
            trigger = trigger.unless_event(kind, c.same_attr.as_deref());
        }
        if c.unless_ordered {
            trigger = trigger.unless_ordered();
        }
        Audience::nobody().on(trigger)
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let Some(event) = &run.trigger else { return vec![] };
        let touch = Touch::message(member, "echo", &run.config.channel, "echo")
            .var("event_id", &event.id)
            .var("event_kind", &event.kind)
            .var("event_at", event.at.to_string())
            .var("run_at", run.run_at.to_string());
        vec![touch]
    }
}

register_strategy!(TriggerEcho);
