//! Echoes what the host tells a plugin of how each member can be reached
//! (`member.reach`, WIT 0.3.0) as the variables of one `sms` message per
//! member, so a test can read the facts: the WeCom friendship, consent to
//! `sms` and `wecom`, do-not-contact. With the config `{"friends_only": true}`
//! it asks for WeCom friends only (`wecom-friend-now`).

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub friends_only: bool,
}

pub struct ReachEcho;

impl Strategy for ReachEcho {
    const ID: &'static str = "reach-echo";
    const NAME: &'static str = "Echoes reachability (test)";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Reports how each member can be reached as touch variables.";
    type Config = Config;

    fn audience(c: &Config) -> Audience {
        Audience::when(c.friends_only.then_some(Condition::WecomFriendNow))
    }

    fn decide(_: &Run<Config>, member: &Member) -> Vec<Touch> {
        let reach = &member.reach;
        let wecom = match &reach.wecom {
            WecomFriendship::Friend(since) => format!("friend since {}", since.day),
            WecomFriendship::Deleted(since) => format!("deleted on {}", since.day),
            WecomFriendship::Never => "never".to_string(),
        };
        let dnc = reach.do_not_contact.as_ref().map_or("no".to_string(), |since| format!("since {}", since.day));
        vec![Touch::message(member, "reach", "sms", "reach")
            .var("wecom", wecom)
            .var("friend_since", member.wecom_friend_since().map_or(String::new(), |day| day.to_string()))
            .var("profile_added_day", member.profile.wecom_added_day.map_or(String::new(), |day| day.to_string()))
            .var("sms", reach.consents_to("sms"))
            .var("wecom_consent", reach.consents_to("wecom"))
            .var("do_not_contact", dnc)]
    }
}

register_strategy!(ReachEcho);
