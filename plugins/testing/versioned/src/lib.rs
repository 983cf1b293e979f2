//! Says which version of it decided: every member with an order gets a
//! message whose template names the plugin's version.

use canvas_sdk::*;

pub struct Versioned;

impl Strategy for Versioned {
    const ID: &'static str = "versioned";
    const NAME: &'static str = "Names its version (test)";
    const VERSION: &'static str = env!("PLUGIN_VERSION");
    const DESCRIPTION: &'static str = "Messages members with a template that names the plugin's version.";
    type Config = NoConfig;

    fn audience(_: &NoConfig) -> Audience {
        Audience::when([Condition::HasOrdered])
    }

    fn decide(_: &Run<NoConfig>, member: &Member) -> Vec<Touch> {
        vec![Touch::message(member, "hello", "wecom", concat!("hello-", env!("PLUGIN_VERSION")))]
    }
}

register_strategy!(Versioned);
