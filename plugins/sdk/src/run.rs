//! What an author implements ([`Strategy`]) and what one run looks like to it ([`Run`]).

use serde::{de::DeserializeOwned, Serialize};

use crate::{Audience, Date, Day, Event, Instant, Member, Product, RunContext, Touch};

/// A lifecycle strategy. The host evaluates [`Strategy::audience`] over the
/// member base and calls [`Strategy::decide`] for each member in it, a batch
/// at a time ([`Strategy::decide_batch`]).
pub trait Strategy {
    /// Stable identifier, lowercase with dashes, e.g. `dormant-recall`.
    const ID: &'static str;
    /// Human-readable name for operators.
    const NAME: &'static str;
    /// The plugin's own version; normally `env!("CARGO_PKG_VERSION")`.
    const VERSION: &'static str;
    /// One or two sentences for operators.
    const DESCRIPTION: &'static str;
    /// A 5-field cron expression in the brand's time zone;
    /// [`crate::ONLY_ON_TRIGGERS`] for a strategy that only reacts to events.
    const SCHEDULE: &'static str = crate::DAILY_AT_10;

    /// The operator-facing config. `Default` is the default config; mark the
    /// struct `#[serde(default, deny_unknown_fields)]` so a typo is an error.
    type Config: Serialize + DeserializeOwned + Default;

    /// Refuses a config that parses but makes no sense: a negative coupon, a
    /// member level that does not exist, a day count of 0. The SDK calls it
    /// each time it parses the effective config, before [`Strategy::audience`]
    /// and before a batch's [`Strategy::decide`], so a refused config is an
    /// error from the plugin; the host calls `audience-for` whenever an
    /// operator sets a config (and at install and every run), so the
    /// operator is refused at once, with this message, instead of the
    /// strategy failing or misbehaving at run time.
    ///
    /// The message names the key (dotted into nested values) and what is
    /// allowed, and says what was found where that helps, e.g.
    /// `levels.7: unknown member level; levels are 1–4` or
    /// `after_days: must be at least 1 (is 0)`; the SDK puts
    /// `invalid config for <id>: ` in front. [`crate::check`] has the common
    /// checks and [`crate::BenefitSpec::check`] checks a benefit. The default
    /// config must pass (a unit test per strategy says so). The default
    /// refuses nothing.
    fn check(config: &Self::Config) -> Result<(), String> {
        let _ = config;
        Ok(())
    }

    /// Which members this strategy wants at a run, with this config.
    fn audience(config: &Self::Config) -> Audience;

    /// The touches for one member of the audience (usually none or one).
    fn decide(run: &Run<Self::Config>, member: &Member) -> Vec<Touch>;

    /// The touches for one batch of the audience: [`Strategy::decide`] for
    /// each member, in order. Override it to work out once per batch what
    /// does not depend on the member (a catalogue of the run's launches, a
    /// lookup table) instead of once per member; `decide` must still give
    /// each member the same touches, as unit tests call it.
    fn decide_batch(run: &Run<Self::Config>, members: &[Member]) -> Vec<Touch> {
        members.iter().flat_map(|member| Self::decide(run, member)).collect()
    }
}

/// The config of a strategy that has none: `{}`, and any key is an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

/// One run of a strategy: the host's clock, the brand calendar's date, the
/// effective config and the recent product launches.
#[derive(Clone, Debug)]
pub struct Run<C> {
    /// The run instant (milliseconds since the epoch): the host's clock, frozen for the run.
    pub run_at: Instant,
    /// The run's day in the brand's calendar, as days since 1970-01-01.
    pub today: Day,
    /// The same day as a calendar date.
    pub date: Date,
    /// The brand's IANA time zone, e.g. `Asia/Shanghai`.
    pub timezone: String,
    /// The strategy's effective config: its defaults overlaid with the operator's settings.
    pub config: C,
    /// Products launched within the audience's `launch_lookback_days`, newest first.
    pub launches: Vec<Product>,
    /// The event that triggered this call (one of the audience's triggers,
    /// for the one member decided); None in a scheduled run.
    pub trigger: Option<Event>,
}

const MILLIS_PER_MINUTE: i64 = 60_000;

impl<C> Run<C> {
    /// A run from the host's context and the config already parsed.
    pub fn new(context: RunContext, config: C) -> Self {
        Run {
            run_at: context.run_at,
            today: context.today,
            date: context.date,
            timezone: context.timezone,
            config,
            launches: context.launches,
            trigger: context.trigger,
        }
    }

    /// The triggering event's attribute `key` as text (a JSON string as is,
    /// any other value as JSON); None in a scheduled run or without it.
    pub fn trigger_attr(&self, key: &str) -> Option<String> {
        self.trigger.as_ref().and_then(|e| e.attr(key))
    }

    /// Whole days from `day` to the run date (0 on the run date itself).
    pub fn days_since(&self, day: Day) -> i32 {
        self.today - day
    }

    /// Whole minutes from `at` to the run instant.
    pub fn minutes_since(&self, at: Instant) -> i64 {
        (self.run_at - at).div_euclid(MILLIS_PER_MINUTE)
    }

    /// Whether the run date is the anniversary of `date` (a 29 February falls
    /// on 28 February in common years).
    pub fn is_anniversary_of(&self, date: &Date) -> bool {
        let anniversary = crate::calendar::anniversary_in(date, self.date.year);
        (anniversary.month, anniversary.day) == (self.date.month, self.date.day)
    }

    /// Whether `day` lies within the last `days` days: the run date and the
    /// `days - 1` days before it (the same window as [`crate::within`]).
    pub fn is_within(&self, day: Day, days: u32) -> bool {
        let ago = self.days_since(day);
        ago >= 0 && (ago as i64) < i64::from(days.max(1))
    }
}
