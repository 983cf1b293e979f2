//! The brand's calendar: which local day an instant falls on, and when a
//! day's run happens. Every "N days ago" in the product is counted in it.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::model::{Day, Millis};

/// The brand's zone when the config (or a fixture) names none.
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

/// The brand's time zone, and the day arithmetic done in it. The default is
/// [`DEFAULT_TIMEZONE`]'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrandCalendar {
    tz: Tz,
}

impl Default for BrandCalendar {
    fn default() -> Self {
        BrandCalendar { tz: chrono_tz::Asia::Shanghai }
    }
}

impl BrandCalendar {
    /// The calendar of a brand in `tz`.
    pub fn new(tz: Tz) -> Self {
        BrandCalendar { tz }
    }

    /// Parses an IANA time-zone name, e.g. `Asia/Shanghai`.
    pub fn named(name: &str) -> Result<Self, String> {
        name.parse::<Tz>()
            .map(BrandCalendar::new)
            .map_err(|_| format!("`{name}` is not an IANA time zone name (e.g. Asia/Shanghai)"))
    }

    /// The brand's time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// An instant as the brand's local date and time.
    pub fn local(&self, at: Millis) -> DateTime<Tz> {
        self.tz.timestamp_millis_opt(at).single().expect("every millisecond instant maps to one local time")
    }

    /// The local date of an instant.
    pub fn date_of(&self, at: Millis) -> NaiveDate {
        self.local(at).date_naive()
    }

    /// The local day of an instant, as days since 1970-01-01.
    pub fn day_of(&self, at: Millis) -> Day {
        day_number(self.date_of(at))
    }

    /// The instant of a local date and time. A time skipped by a daylight-saving
    /// change moves forward to the first valid instant after the gap; an
    /// ambiguous one takes the earlier instant.
    pub fn instant(&self, date: NaiveDate, time: NaiveTime) -> Millis {
        let mut local = NaiveDateTime::new(date, time);
        loop {
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.timestamp_millis(),
                LocalResult::None => local += chrono::Duration::minutes(1),
            }
        }
    }

    /// 00:00 local on `date`, the start of that day.
    pub fn start_of(&self, date: NaiveDate) -> Millis {
        self.instant(date, NaiveTime::MIN)
    }

    /// To the minute in the brand's zone, e.g. `2026-03-01 10:00`: what the
    /// console shows (its pages name the zone once).
    pub fn format_minute(&self, at: Millis) -> String {
        self.local(at).format("%Y-%m-%d %H:%M").to_string()
    }

    /// RFC 3339 in the brand's zone, e.g. `2026-03-01T10:00:00+08:00`.
    pub fn format(&self, at: Millis) -> String {
        self.local(at).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    }
}

/// Days since 1970-01-01 of a date.
pub fn day_number(date: NaiveDate) -> Day {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as Day
}

/// The date of a day number.
pub fn date_of_day(day: Day) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(day as i64)
}

/// Parses an RFC 3339 instant with an offset.
pub fn parse_instant(text: &str) -> Result<Millis, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("`{text}` is not an RFC 3339 instant with an offset ({e})"))
}

/// Parses a local date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("`{text}` is not a date YYYY-MM-DD"))
}

/// `date`'s month, 1..=12.
pub fn month_of(date: NaiveDate) -> u8 {
    date.month() as u8
}

/// The instant of a run and its local date in the brand's calendar: what
/// audiences count days from and what every decision of the run is stamped with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunClock {
    /// The run instant.
    pub at: Millis,
    /// Its day in the brand's calendar.
    pub today: Day,
}

impl RunClock {
    /// The clock of a run at `at`, its day in `calendar`.
    pub fn new(calendar: &BrandCalendar, at: Millis) -> Self {
        RunClock { at, today: calendar.day_of(at) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_stamped_17_30_utc_is_the_next_day_in_shanghai() {
        let cal = BrandCalendar::default();
        let at = parse_instant("2026-03-01T17:30:00Z").unwrap();
        assert_eq!(cal.date_of(at), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        let before = parse_instant("2026-03-01T15:59:59Z").unwrap();
        assert_eq!(cal.date_of(before), NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
    }

    #[test]
    fn ten_o_clock_is_the_brand_s_local_ten_o_clock() {
        let cal = BrandCalendar::named("Asia/Shanghai").unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let run = cal.instant(date, NaiveTime::from_hms_opt(10, 0, 0).unwrap());
        assert_eq!(cal.format(run), "2026-03-01T10:00:00+08:00");
        assert_eq!(run, parse_instant("2026-03-01T02:00:00Z").unwrap());
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_moves_forward() {
        let cal = BrandCalendar::named("America/New_York").unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let at = cal.instant(date, NaiveTime::from_hms_opt(2, 30, 0).unwrap());
        assert_eq!(cal.format(at), "2026-03-08T03:00:00-04:00");
    }

    #[test]
    fn day_numbers_round_trip() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(date_of_day(day_number(date)), date);
        assert_eq!(day_number(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
        assert!(BrandCalendar::named("Mars/Olympus").is_err());
    }
}
