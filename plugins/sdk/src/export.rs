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
