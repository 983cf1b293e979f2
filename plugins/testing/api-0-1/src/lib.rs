//! A plugin built against `canvas:strategy@0.1.0` straight from the frozen
//! WIT file (the SDKs have all moved on to 0.4.0): the host must keep running
//! it, converting its audience to the current types and handing it the 0.1.0
//! member shape. It asks for members whose birthday falls in the run month,
//! as birthday-tiered does, and sends each of them one `birthday` message
//! with their level.
// Only a wasm build is a component; natively (cargo test --workspace) this is empty.
#![cfg(target_family = "wasm")]

wit_bindgen::generate!({ path: "../../../wit/v0.1.0", world: "canvas:strategy/plugin@0.1.0" });

use canvas::strategy::types::*;

struct Api01;

impl exports::canvas::strategy::strategy::Guest for Api01 {
    fn describe() -> Manifest {
        Manifest {
            id: "api-0-1".into(),
            name: "A 0.1.0 plugin (test)".into(),
            version: "1.0.0".into(),
            api_version: "0.1.0".into(),
            description: "Greets members in their birthday month.".into(),
            default_config: "{}".into(),
            schedule: "0 10 1 * *".into(),
        }
    }

    fn audience_for(_config: String) -> Result<Audience, String> {
        Ok(Audience {
            any_of: vec![Clause { all_of: vec![Condition::BirthdayInRunMonth], none_of: vec![] }],
            order_windows: vec![],
            event_kinds: vec![],
            event_lookback_hours: 0,
            launch_lookback_days: 0,
        })
    }

    fn decide(context: RunContext, members: Vec<Member>) -> Result<Vec<Touch>, String> {
        let month = context.date.month;
        Ok(members
            .into_iter()
            .filter(|m| m.profile.birthday.is_some_and(|b| b.month == month))
            .map(|m| Touch {
                member_id: m.profile.id.clone(),
                step: "birthday".into(),
                channel: "wecom".into(),
                template: "birthday".into(),
                variables: vec![("level".into(), m.profile.level.to_string())],
                action: Action::Message,
            })
            .collect())
    }
}

export!(Api01);
