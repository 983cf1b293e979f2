//! The glue `register_strategy!` expands to: JSON config in, WIT types out.

use crate::{Audience, Manifest, Member, Run, RunContext, Strategy, Touch};

pub fn manifest<S: Strategy>() -> Manifest {
    Manifest {
        id: S::ID.to_string(),
        name: S::NAME.to_string(),
        version: S::VERSION.to_string(),
        api_version: crate::API_VERSION.to_string(),
        description: S::DESCRIPTION.to_string(),
        default_config: serde_json::to_string(&S::Config::default())
            .expect("a strategy's default config serializes to JSON"),
        schedule: S::SCHEDULE.to_string(),
    }
}

/// Parses the effective config and has the strategy check it
/// ([`Strategy::check`]); the message names the offending key or value.
/// Every export that reads the config comes through here, so no call runs on
/// a config the strategy refuses.
pub fn parse_config<S: Strategy>(json: &str) -> Result<S::Config, String> {
    let invalid = |e: &dyn std::fmt::Display| format!("invalid config for {}: {e}", S::ID);
    let config = serde_json::from_str(json).map_err(|e| invalid(&e))?;
    S::check(&config).map_err(|e| invalid(&e))?;
    Ok(config)
}

pub fn audience<S: Strategy>(config: &str) -> Result<Audience, String> {
    parse_config::<S>(config).map(|config| S::audience(&config))
}

pub fn decide<S: Strategy>(context: RunContext, members: Vec<Member>) -> Result<Vec<Touch>, String> {
    let config = parse_config::<S>(&context.config)?;
    let run = Run::new(context, config);
    Ok(S::decide_batch(&run, &members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{member, run_on};
    use crate::{Condition, NoConfig};

    /// Greets each member, and each batch once, in front of them. (The
    /// default `decide_batch` is what every other strategy's calls go through.)
    struct BatchGreeter;

    impl Strategy for BatchGreeter {
        const ID: &'static str = "batch-greeter";
        const NAME: &'static str = "Batch greeter";
        const VERSION: &'static str = "0.1.0";
        const DESCRIPTION: &'static str = "Says hello, and hello to the batch.";
        type Config = NoConfig;

        fn audience(_: &NoConfig) -> Audience {
            Audience::when([Condition::HasOrdered])
        }

        fn decide(_: &Run<NoConfig>, member: &Member) -> Vec<Touch> {
            vec![Touch::message(member, "hello", "wecom", "hello")]
        }

        fn decide_batch(run: &Run<NoConfig>, members: &[Member]) -> Vec<Touch> {
            let batch = members.first().map(|m| Touch::message(m, "batch", "wecom", "batch"));
            batch.into_iter().chain(members.iter().flat_map(|m| Self::decide(run, m))).collect()
        }
    }

    /// Greets members `after_days` after their last order; refuses 0 days.
    struct CheckedGreeter;

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct DaysConfig {
        after_days: u32,
    }

    impl Default for DaysConfig {
        fn default() -> Self {
            DaysConfig { after_days: 90 }
        }
    }

    impl Strategy for CheckedGreeter {
        const ID: &'static str = "checked-greeter";
        const NAME: &'static str = "Checked greeter";
        const VERSION: &'static str = "0.1.0";
        const DESCRIPTION: &'static str = "Says hello, after a sensible number of days.";
        type Config = DaysConfig;

        fn check(config: &DaysConfig) -> Result<(), String> {
            crate::check::at_least("after_days", config.after_days, 1)
        }

        fn audience(config: &DaysConfig) -> Audience {
            Audience::when([Condition::LastOrder(crate::exactly(config.after_days))])
        }

        fn decide(_: &Run<DaysConfig>, member: &Member) -> Vec<Touch> {
            vec![Touch::message(member, "hello", "wecom", "hello")]
        }
    }

    fn context(run: &Run<impl Sized>, config: &str) -> RunContext {
        RunContext {
            run_at: run.run_at,
            today: run.today,
            date: run.date,
            timezone: run.timezone.clone(),
            config: config.into(),
            launches: Vec::new(),
            trigger: None,
        }
    }

    #[test]
    fn a_config_the_strategy_refuses_is_an_error_from_audience_and_from_decide() {
        let refused = "invalid config for checked-greeter: after_days: must be at least 1 (is 0)";
        assert_eq!(audience::<CheckedGreeter>(r#"{"after_days": 0}"#).unwrap_err(), refused);
        let run = run_on(2026, 6, 1, DaysConfig::default());
        let members = vec![member("a").build(&run, &[])];
        let decided = decide::<CheckedGreeter>(context(&run, r#"{"after_days": 0}"#), members.clone());
        assert_eq!(decided.unwrap_err(), refused);
        assert!(audience::<CheckedGreeter>(r#"{"after_days": 1}"#).is_ok());
        assert_eq!(decide::<CheckedGreeter>(context(&run, r#"{"after_days": 1}"#), members).unwrap().len(), 1);
    }

    #[test]
    fn a_config_that_does_not_parse_is_refused_before_it_is_checked() {
        let typo = audience::<CheckedGreeter>(r#"{"after_dayz": 0}"#).unwrap_err();
        assert!(typo.starts_with("invalid config for checked-greeter: unknown field `after_dayz`"), "{typo}");
    }

    #[test]
    fn a_call_decides_its_batch_through_decide_batch() {
        let run = run_on(2026, 6, 1, NoConfig {});
        let context = context(&run, "{}");
        let members = ["a", "b"].iter().map(|id| member(id).build(&run, &[])).collect();
        let touches = decide::<BatchGreeter>(context, members).unwrap();
        let touched: Vec<(&str, &str)> = touches.iter().map(|t| (t.member_id.as_str(), t.step.as_str())).collect();
        assert_eq!(touched, [("a", "batch"), ("a", "hello"), ("b", "hello")]);
    }
}
