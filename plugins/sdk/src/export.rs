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

/// Parses the effective config; the message names the offending key or value.
pub fn parse_config<S: Strategy>(json: &str) -> Result<S::Config, String> {
    serde_json::from_str(json).map_err(|e| format!("invalid config for {}: {e}", S::ID))
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

    #[test]
    fn a_call_decides_its_batch_through_decide_batch() {
        let run = run_on(2026, 6, 1, NoConfig {});
        let context = RunContext {
            run_at: run.run_at,
            today: run.today,
            date: run.date,
            timezone: run.timezone.clone(),
            config: "{}".into(),
            launches: Vec::new(),
        };
        let members = ["a", "b"].iter().map(|id| member(id).build(&run, &[])).collect();
        let touches = decide::<BatchGreeter>(context, members).unwrap();
        let touched: Vec<(&str, &str)> = touches.iter().map(|t| (t.member_id.as_str(), t.step.as_str())).collect();
        assert_eq!(touched, [("a", "batch"), ("a", "hello"), ("b", "hello")]);
    }
}
