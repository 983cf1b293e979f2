//! What an operator asks of the results: a range of brand-local days and
//! the grouping (`by=strategy,channel,week`), read from the API's query
//! string or the CLI's flags by the same code, so both refuse the same
//! things with the same words; and the `[results]` settings.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{date_of_day, day_number, parse_date};
use crate::model::Day;

/// The dimensions a result can be grouped by, as `by` spells them.
pub const DIMENSIONS: [&str; 6] = ["strategy", "step", "level", "store", "guide", "channel"];
/// The time grains; at most one of them in a `by`.
pub const GRAINS: [&str; 3] = ["day", "week", "month"];
/// The longest range asked for at once: ten years of days. Longer is
/// certainly a typo, and every day of it would be walked for the sales split.
pub const MAX_RANGE_DAYS: i64 = 3660;

/// `[results]` in the canvas config. The attribution window is
/// `[report] attribution_days`, shared with the simulation's outlook, so a
/// dry run and live results measure conversion alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResultsSettings {
    /// Days after a touch (or a withheld one) in which a WeCom deletion or
    /// an unsubscribe counts as its harm.
    pub harm_days: u32,
}

impl Default for ResultsSettings {
    fn default() -> Self {
        ResultsSettings { harm_days: 7 }
    }
}

/// A request the results refuse, naming the parameter and what it takes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    /// `from` or `to` is not a date.
    #[error("`{param}`: `{given}` is not a date YYYY-MM-DD")]
    BadDate {
        /// `from` or `to`.
        param: &'static str,
        /// What was given.
        given: String,
    },
    /// `to` is before `from`, or the range is too long.
    #[error("`to` ({to}) must be on or after `from` ({from}) and at most {MAX_RANGE_DAYS} days after it")]
    BadRange {
        /// The first day asked for.
        from: NaiveDate,
        /// The last day asked for.
        to: NaiveDate,
    },
    /// A `by` item that is not a dimension or a grain, or one given twice.
    #[error(
        "`by`: `{given}` {problem}; allowed: a comma-separated list of strategy, step, level, store, guide, channel \
         and at most one of day, week, month"
    )]
    BadBy {
        /// The offending item.
        given: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// The time grain of a grouping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    /// Each brand-local day.
    Day,
    /// Weeks from Monday, named by their Monday.
    Week,
    /// Calendar months, named `YYYY-MM`.
    Month,
}

impl Grain {
    /// The first day of the period `day` falls in: what groups it.
    pub fn period_of(self, day: Day) -> Day {
        match self {
            Grain::Day => day,
            Grain::Week => day - date_of_day(day).weekday().num_days_from_monday() as Day,
            Grain::Month => day_number(date_of_day(day).with_day(1).expect("every month has a first")),
        }
    }

    /// The period starting on `first` as a row's key shows it.
    pub fn label(self, first: Day) -> String {
        let date = date_of_day(first);
        match self {
            Grain::Day | Grain::Week => date.to_string(),
            Grain::Month => date.format("%Y-%m").to_string(),
        }
    }
}

/// One item of a grouping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// The strategy (plugin id) that decided the touch.
    Strategy,
    /// The step inside the strategy.
    Step,
    /// The member's level, as it is now.
    Level,
    /// The member's store.
    Store,
    /// The guide asked to act (a staff task), else the member's own guide.
    Guide,
    /// The channel the touch went (or would have gone) down.
    Channel,
    /// The touch's period (send day; a holdout's run day).
    Time(Grain),
}

impl Dimension {
    /// The name `by` gives it.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Strategy => "strategy",
            Dimension::Step => "step",
            Dimension::Level => "level",
            Dimension::Store => "store",
            Dimension::Guide => "guide",
            Dimension::Channel => "channel",
            Dimension::Time(Grain::Day) => "day",
            Dimension::Time(Grain::Week) => "week",
            Dimension::Time(Grain::Month) => "month",
        }
    }
}

/// What the results are asked for: brand-local days `from..=to`, grouped by `by`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultsQuery {
    /// The first day.
    pub from: Day,
    /// The last day (included).
    pub to: Day,
    /// The grouping, in the order asked (a row's key follows it); empty: the total only.
    pub by: Vec<Dimension>,
}

impl ResultsQuery {
    /// Reads `from`, `to` (`YYYY-MM-DD`) and `by` (comma-separated, may be empty).
    pub fn parse(from: &str, to: &str, by: &str) -> Result<Self, QueryError> {
        let date = |param, given: &str| {
            parse_date(given.trim()).map_err(|_| QueryError::BadDate { param, given: given.to_string() })
        };
        let (first, last) = (date("from", from)?, date("to", to)?);
        let days = (last - first).num_days();
        if !(0..=MAX_RANGE_DAYS).contains(&days) {
            return Err(QueryError::BadRange { from: first, to: last });
        }
        let mut dims: Vec<Dimension> = Vec::new();
        for item in by.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let dim = match item {
                "strategy" => Dimension::Strategy,
                "step" => Dimension::Step,
                "level" => Dimension::Level,
                "store" => Dimension::Store,
                "guide" => Dimension::Guide,
                "channel" => Dimension::Channel,
                "day" => Dimension::Time(Grain::Day),
                "week" => Dimension::Time(Grain::Week),
                "month" => Dimension::Time(Grain::Month),
                _ => return Err(QueryError::BadBy { given: item.to_string(), problem: "is not a dimension" }),
            };
            if dims.contains(&dim) {
                return Err(QueryError::BadBy { given: item.to_string(), problem: "is given twice" });
            }
            if matches!(dim, Dimension::Time(_)) && dims.iter().any(|d| matches!(d, Dimension::Time(_))) {
                return Err(QueryError::BadBy { given: item.to_string(), problem: "is a second time grain" });
            }
            dims.push(dim);
        }
        Ok(ResultsQuery { from: day_number(first), to: day_number(last), by: dims })
    }

    /// The time grain asked for, if any.
    pub fn grain(&self) -> Option<Grain> {
        self.by.iter().find_map(|d| match d {
            Dimension::Time(g) => Some(*g),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grouping_reads_in_the_order_given_and_refuses_unknown_repeated_or_two_grains() {
        let q = ResultsQuery::parse("2026-03-01", "2026-03-31", "strategy, channel,week").unwrap();
        assert_eq!(q.by, [Dimension::Strategy, Dimension::Channel, Dimension::Time(Grain::Week)]);
        assert_eq!(q.to - q.from, 30);
        assert!(ResultsQuery::parse("2026-03-01", "2026-03-01", "").unwrap().by.is_empty());
        let bad = |by: &str| ResultsQuery::parse("2026-03-01", "2026-03-31", by).unwrap_err().to_string();
        assert!(bad("strategy,colour").contains("`colour` is not a dimension"), "{}", bad("colour"));
        assert!(bad("step,step").contains("given twice"));
        assert!(bad("day,month").contains("`month` is a second time grain"));
        assert!(bad("x").contains("allowed: a comma-separated list of strategy, step, level"));
    }

    #[test]
    fn dates_must_read_and_be_in_order() {
        let err = ResultsQuery::parse("2026-02-30", "2026-03-31", "").unwrap_err();
        assert_eq!(err, QueryError::BadDate { param: "from", given: "2026-02-30".into() });
        assert!(matches!(ResultsQuery::parse("2026-03-02", "2026-03-01", ""), Err(QueryError::BadRange { .. })));
        assert!(matches!(ResultsQuery::parse("2000-01-01", "2026-03-01", ""), Err(QueryError::BadRange { .. })));
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let day = day_number(NaiveDate::from_ymd_opt(2026, 3, 5).unwrap()); // a Thursday
        assert_eq!(Grain::Week.label(Grain::Week.period_of(day)), "2026-03-02");
        assert_eq!(Grain::Month.label(Grain::Month.period_of(day)), "2026-03");
        assert_eq!(Grain::Day.label(Grain::Day.period_of(day)), "2026-03-05");
    }
}
