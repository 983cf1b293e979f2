#![cfg_attr(not(target_family = "wasm"), allow(unused))]
//! A plugin written to attack the host, its attack chosen by its config:
//! each of the host's defences (tests/integration/hardening.rs) is proved
//! against a real component doing what an attacker's would.
//!
//! Always: it sleeps in every export (`describe` for 15 s, the others for
//! `sleep_ms`), as `std::thread::sleep` does it — a WASI clock poll the
//! epoch deadline cannot interrupt — and its name and description carry
//! terminal escape sequences. By config:
//! - `fail_on`: panics when deciding that member (and no other);
//! - `outsider_for`: when deciding that member, also touches `M-OUTSIDER`;
//! - `gift_bytes` / `value_fen` / `group_size`: the coupon's gift name
//!   length and value, or a group-buy invite of that size;
//! - `log_bytes`: written to stdout and to stderr before deciding;
//! - `clauses` / `order_windows` / `lookback_days`: the audience's size.
//!
//! It implements the WIT world by hand, not through `register_strategy!`,
//! because the SDK's `describe` is not a place to misbehave in.

use std::io::Write;
use std::time::Duration;

use canvas_sdk::*;

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
    sleep_ms: u64,
    fail_on: String,
    outsider_for: String,
    gift_bytes: usize,
    value_fen: i64,
    group_size: u8,
    log_bytes: usize,
    clauses: usize,
    order_windows: usize,
    lookback_days: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sleep_ms: 15_000,
            fail_on: String::new(),
            outsider_for: String::new(),
            gift_bytes: 0,
            value_fen: 3_000,
            group_size: 0,
            log_bytes: 0,
            clauses: 1,
            order_windows: 0,
            lookback_days: 0,
        }
    }
}

struct Hostile;

fn config(json: &str) -> Result<Config, String> {
    serde_json::from_str(json).map_err(|e| format!("invalid config for hostile: {e}"))
}

fn sleep(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

// Only a wasm build exports the world (a native build of the workspace links
// this crate too).
#[cfg(target_family = "wasm")]
impl canvas_sdk::bindings::exports::canvas::strategy::strategy::Guest for Hostile {
    fn describe() -> Manifest {
        sleep(15_000);
        Manifest {
            id: "hostile".into(),
            name: "Hostile \u{1b}[2J\u{1b}]0;owned\u{7} (test)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION.into(),
            description: "Attacks the host.\u{1b}[31m red \u{9b}0m".into(),
            default_config: serde_json::to_string(&Config::default()).expect("serializes"),
            schedule: DAILY_AT_10.into(),
        }
    }

    fn audience_for(json: String) -> Result<Audience, String> {
        let c = config(&json)?;
        sleep(c.sleep_ms);
        let condition = match c.lookback_days {
            0 => Condition::HasOrdered,
            days => Condition::LastOrder(DaysAgo { min: 0, max: days }),
        };
        let clause = Clause { all_of: vec![condition], none_of: vec![] };
        Ok(Audience {
            any_of: vec![clause; c.clauses],
            order_windows: vec![30; c.order_windows],
            event_kinds: vec![],
            event_lookback_hours: 0,
            launch_lookback_days: 0,
            triggers: vec![],
        })
    }

    fn decide(context: RunContext, members: Vec<Member>) -> Result<Vec<Touch>, String> {
        let c = config(&context.config)?;
        sleep(c.sleep_ms);
        if c.log_bytes > 0 {
            let noise = "x".repeat(c.log_bytes);
            print!("{noise}");
            eprint!("{noise}");
            let _ = std::io::stdout().flush();
        }
        let mut touches = Vec::new();
        for member in &members {
            let id = &member.profile.id;
            if *id == c.fail_on {
                panic!("hostile: failing on member {id}");
            }
            let action = match c.group_size {
                0 => Action::Coupon(Benefit {
                    kind: BenefitKind::Coupon,
                    value: c.value_fen,
                    gift: (c.gift_bytes > 0).then(|| "g".repeat(c.gift_bytes)),
                }),
                size => Action::GroupBuyInvite(GroupBuy { sku: "DR-1".into(), group_size: size, price: 15_900 }),
            };
            let touch = |member_id: &str| Touch {
                member_id: member_id.into(),
                step: "hostile".into(),
                channel: "wecom".into(),
                template: "hostile".into(),
                variables: vec![],
                action: action.clone(),
            };
            touches.push(touch(id));
            if *id == c.outsider_for {
                touches.push(touch("M-OUTSIDER"));
            }
        }
        Ok(touches)
    }
}

#[cfg(target_family = "wasm")]
canvas_sdk::bindings::export_canvas_plugin!(Hostile with_types_in canvas_sdk::bindings);
