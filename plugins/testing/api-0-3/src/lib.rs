//! A plugin built against `canvas:strategy@0.3.0` straight from the frozen
//! WIT file (the SDK has moved on): the host must keep running it after
//! 0.4.0 added triggers, handing it the 0.3.0 run context. It asks for
//! current WeCom friends (`wecom-friend-now`, new in 0.3.0) and echoes the
//! run's date, the member's reach and counts as one `wecom` message each.
// Only a wasm build is a component; natively (cargo test --workspace) this is empty.
#![cfg(target_family = "wasm")]

wit_bindgen::generate!({ path: "../../../wit/v0.3.0", world: "canvas:strategy/plugin@0.3.0" });

use canvas::strategy::types::*;

struct Api03;

impl exports::canvas::strategy::strategy::Guest for Api03 {
    fn describe() -> Manifest {
        Manifest {
            id: "api-0-3".into(),
            name: "A 0.3.0 plugin (test)".into(),
            version: "1.0.0".into(),
            api_version: "0.3.0".into(),
            description: "Echoes the run date and the reach of current WeCom friends.".into(),
            default_config: "{}".into(),
            schedule: "0 10 * * *".into(),
        }
    }

    fn audience_for(_config: String) -> Result<Audience, String> {
        Ok(Audience {
            any_of: vec![Clause { all_of: vec![Condition::WecomFriendNow], none_of: vec![] }],
            order_windows: vec![30],
            event_kinds: vec!["wecom_added".into(), "wecom_deleted".into()],
            event_lookback_hours: 24 * 3650,
            launch_lookback_days: 0,
        })
    }

    fn decide(context: RunContext, members: Vec<Member>) -> Result<Vec<Touch>, String> {
        let date = format!("{}-{:02}-{:02}", context.date.year, context.date.month, context.date.day);
        Ok(members
            .into_iter()
            .map(|m| {
                let friend_since = match m.reach.wecom {
                    WecomFriendship::Friend(since) => since.day.to_string(),
                    WecomFriendship::Deleted(_) | WecomFriendship::Never => String::new(),
                };
                Touch {
                    member_id: m.profile.id.clone(),
                    step: "echo".into(),
                    channel: "wecom".into(),
                    template: "echo".into(),
                    variables: vec![
                        ("date".into(), date.clone()),
                        ("friend_since".into(), friend_since),
                        ("events".into(), m.events.len().to_string()),
                        ("windows".into(), m.orders.windows.len().to_string()),
                    ],
                    action: Action::Message,
                }
            })
            .collect())
    }
}

export!(Api03);
