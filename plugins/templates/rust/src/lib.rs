//! __NAME__: members who added the brand on WeCom exactly `after_days` days
//! ago and have not ordered yet get a welcome message. Replace with your rule.

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

/// What operators may change without a rebuild (`canvas plugin config`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub after_days: u32,
    pub channel: String,
    pub template: String,
}

impl Default for Config {
    fn default() -> Self {
        Config { after_days: 3, channel: "wecom".into(), template: "__TEMPLATE__".into() }
    }
}

pub struct Plugin;

impl Strategy for Plugin {
    const ID: &'static str = "__ID__";
    const NAME: &'static str = "__NAME__";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Welcomes members who added the brand on WeCom and have not ordered yet.";
    type Config = Config;

    /// The host evaluates this over the member base; only these members reach `decide`.
    fn audience(config: &Config) -> Audience {
        Audience::when([Condition::WecomAdded(exactly(config.after_days))]).except([Condition::HasOrdered])
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let c = &run.config;
        vec![Touch::message(member, "welcome", &c.channel, &c.template).var("name", &member.profile.name)]
    }
}

register_strategy!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

    #[test]
    fn welcomes_with_the_member_name() {
        let run = run_on(2026, 6, 10, Config::default());
        let touches = Plugin::decide(&run, &member("M1").build(&run, &[]));
        assert_eq!(touches.len(), 1);
        assert_eq!(touches[0].step, "welcome");
    }
}
