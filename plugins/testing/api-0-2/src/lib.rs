//! A plugin built against `canvas:strategy@0.2.0` straight from the frozen
//! WIT file (the SDK has moved on): the host must keep running it after
//! 0.3.0 added the member's `reach`, handing it the 0.2.0 member shape. It
//! asks for members whose current WeCom friendship began in the last ten
//! years and echoes the day, and the member's events and earlier decisions
//! counted, as one `wecom` message each.
// Only a wasm build is a component; natively (cargo test --workspace) this is empty.
#![cfg(target_family = "wasm")]

wit_bindgen::generate!({ path: "../../../wit/v0.2.0", world: "canvas:strategy/plugin@0.2.0" });

use canvas::strategy::types::*;

struct Api02;

impl exports::canvas::strategy::strategy::Guest for Api02 {
    fn describe() -> Manifest {
        Manifest {
            id: "api-0-2".into(),
            name: "A 0.2.0 plugin (test)".into(),
            version: "1.0.0".into(),
            api_version: "0.2.0".into(),
            description: "Echoes the WeCom add day of current friends.".into(),
            default_config: "{}".into(),
            schedule: "0 10 * * *".into(),
        }
    }

    fn audience_for(_config: String) -> Result<Audience, String> {
        Ok(Audience {
            any_of: vec![Clause {
                all_of: vec![Condition::WecomAdded(DaysAgo { min: 0, max: 3650 })],
                none_of: vec![],
            }],
            order_windows: vec![],
            event_kinds: vec!["wecom_added".into(), "wecom_deleted".into()],
            event_lookback_hours: 24 * 3650,
            launch_lookback_days: 0,
        })
    }

    fn decide(_context: RunContext, members: Vec<Member>) -> Result<Vec<Touch>, String> {
        Ok(members
            .into_iter()
            .map(|m| Touch {
                member_id: m.profile.id.clone(),
                step: "echo".into(),
                channel: "wecom".into(),
                template: "echo".into(),
                variables: vec![
                    ("added_day".into(), m.profile.wecom_added_day.map_or(String::new(), |d| d.to_string())),
                    ("events".into(), m.events.len().to_string()),
                    ("history".into(), m.history.len().to_string()),
                ],
                action: Action::Message,
            })
            .collect())
    }
}

export!(Api02);
