//! When a strategy runs: a 5-field cron expression in the brand's time zone,
//! or never (an empty expression: a strategy that runs only on its triggers).

use std::fmt;

use chrono::TimeZone;
use croner::parser::{CronParser, Seconds};
use croner::{Cron, Direction};

use crate::calendar::BrandCalendar;
use crate::model::Millis;

/// The default: every day at 10:00 in the brand's time zone.
pub const DAILY_AT_10: &str = "0 10 * * *";

/// A parsed cron schedule, read in the brand's time zone, with the text it
/// was parsed from (which is what is stored and shown); no cron for the
/// empty expression, which never runs.
#[derive(Clone)]
pub struct Schedule {
    cron: Option<Cron>,
    expression: String,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?})", self.expression)
    }
}

impl Schedule {
    /// Parses `minute hour day-of-month month day-of-week`, e.g. `0 10 * * *`;
    /// the empty expression is a schedule that never runs (WIT 0.4.0: a
    /// strategy that runs only on its triggers).
    pub fn parse(expression: &str) -> Result<Self, String> {
        if expression.trim().is_empty() {
            return Ok(Schedule { cron: None, expression: String::new() });
        }
        let parser = CronParser::builder().seconds(Seconds::Disallowed).build();
        let cron = parser
            .parse(expression)
            .map_err(|e| format!("`{expression}` is not a 5-field cron schedule (e.g. `0 10 * * *`): {e}"))?;
        Ok(Schedule { cron: Some(cron), expression: expression.to_string() })
    }

    /// The cron expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Whether it ever runs (not only on triggers).
    pub fn runs_at_all(&self) -> bool {
        self.cron.is_some()
    }

    /// A readable description, e.g. "At 10:00".
    pub fn describe(&self) -> String {
        self.cron.as_ref().map_or_else(|| "Only on its triggers".to_string(), Cron::describe)
    }

    /// The period a run belongs to, for idempotency: a strategy decides a step
    /// for a member at most once per period. Daily when the schedule names one
    /// minute and one hour (`0 10 * * *`, `0 10 1 * *`), hourly when it names
    /// one minute (`0 * * * *`), else per minute.
    pub fn period_of(&self, calendar: &BrandCalendar, at: Millis) -> String {
        let mut fields = self.expression.split_whitespace();
        let fixed = |field: Option<&str>| field.is_some_and(|f| f.parse::<u32>().is_ok());
        let format = match (fixed(fields.next()), fixed(fields.next())) {
            (true, true) => "%Y-%m-%d",
            (true, false) => "%Y-%m-%dT%H",
            _ => "%Y-%m-%dT%H:%M",
        };
        calendar.local(at).format(format).to_string()
    }

    /// Whether a run is due exactly at `at`: the one test of "due" that
    /// `canvas run`, the service and the refused-run record share.
    pub fn is_due(&self, calendar: &BrandCalendar, at: Millis) -> bool {
        !self.runs_between(calendar, at, at + 1).is_empty()
    }

    /// The run instants in `from..until` (from included, until excluded).
    pub fn runs_between(&self, calendar: &BrandCalendar, from: Millis, until: Millis) -> Vec<Millis> {
        let Some(cron) = &self.cron else { return Vec::new() };
        let start = calendar.tz().timestamp_millis_opt(from).single().expect("valid instant");
        // croner works in whole seconds: a start mid-second can yield the
        // second it falls in, which is before `from`.
        cron.iter_from(start, Direction::Forward)
            .map(|t| t.timestamp_millis())
            .skip_while(|&t| t < from)
            .take_while(|&t| t < until)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;

    #[test]
    fn daily_at_ten_runs_at_ten_brand_time() {
        let cal = BrandCalendar::default();
        let schedule = Schedule::parse("0 10 * * *").unwrap();
        let from = parse_instant("2026-03-01T00:00:00+08:00").unwrap();
        let until = parse_instant("2026-03-03T00:00:00+08:00").unwrap();
        let runs: Vec<String> = schedule.runs_between(&cal, from, until).into_iter().map(|t| cal.format(t)).collect();
        assert_eq!(runs, ["2026-03-01T10:00:00+08:00", "2026-03-02T10:00:00+08:00"]);
    }

    #[test]
    fn hourly_and_monthly_schedules() {
        let cal = BrandCalendar::default();
        let from = parse_instant("2026-03-01T00:00:00+08:00").unwrap();
        let day = parse_instant("2026-03-02T00:00:00+08:00").unwrap();
        assert_eq!(Schedule::parse("0 * * * *").unwrap().runs_between(&cal, from, day).len(), 24);
        assert_eq!(
            Schedule::parse("0 * * * *").unwrap().runs_between(&cal, from + 1, day).len(),
            23,
            "from is included, to the ms"
        );
        let year = parse_instant("2027-03-01T00:00:00+08:00").unwrap();
        assert_eq!(Schedule::parse("0 10 1 * *").unwrap().runs_between(&cal, from, year).len(), 12);
        assert!(Schedule::parse("every day").is_err());
        let ten = parse_instant("2026-03-01T10:00:00+08:00").unwrap();
        assert_eq!(Schedule::parse("0 10 * * *").unwrap().period_of(&cal, ten), "2026-03-01");
        assert_eq!(Schedule::parse("0 * * * *").unwrap().period_of(&cal, ten), "2026-03-01T10");
        assert_eq!(Schedule::parse("*/15 * * * *").unwrap().period_of(&cal, ten), "2026-03-01T10:00");
        assert!(Schedule::parse("0 0 10 * * *").is_err(), "seconds are not part of the contract");
    }

    #[test]
    fn an_empty_schedule_never_runs() {
        let cal = BrandCalendar::default();
        let never = Schedule::parse("").unwrap();
        let from = parse_instant("2026-03-01T00:00:00+08:00").unwrap();
        assert!(never.runs_between(&cal, from, from + 400 * 86_400_000).is_empty());
        assert!(!never.is_due(&cal, from) && !never.runs_at_all());
        assert_eq!(never.describe(), "Only on its triggers");
    }
}
