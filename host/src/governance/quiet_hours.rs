//! Quiet hours in the member's own time zone.

use chrono::{Duration, TimeZone};
use chrono_tz::Tz;

use super::policy::QuietHours;
use crate::model::Millis;

impl QuietHours {
    /// The end of the quiet window `at` falls in, or `None` outside one.
    pub fn ends_after(&self, tz: Tz, at: Millis) -> Option<Millis> {
        if !self.enabled || self.start == self.end {
            return None;
        }
        let local = tz.timestamp_millis_opt(at).single()?.naive_local();
        let time = local.time();
        let quiet = if self.start < self.end {
            time >= self.start && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        if !quiet {
            return None;
        }
        let end_date = if time >= self.end { local.date() + Duration::days(1) } else { local.date() };
        Some(local_instant(tz, end_date.and_time(self.end)))
    }
}

fn local_instant(tz: Tz, mut local: chrono::NaiveDateTime) -> Millis {
    loop {
        match tz.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => return t.timestamp_millis(),
            chrono::LocalResult::None => local += Duration::minutes(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;

    #[test]
    fn a_night_touch_waits_for_the_morning_in_the_members_zone() {
        let quiet = QuietHours::default();
        let london: Tz = "Europe/London".parse().unwrap();
        let ten_in_shanghai = parse_instant("2026-03-01T10:00:00+08:00").unwrap(); // 02:00 in London
        let end = quiet.ends_after(london, ten_in_shanghai).unwrap();
        assert_eq!(end, parse_instant("2026-03-01T09:00:00+00:00").unwrap());
        assert_eq!(quiet.ends_after(chrono_tz::Asia::Shanghai, ten_in_shanghai), None);
        let late = parse_instant("2026-03-01T21:30:00+08:00").unwrap();
        assert_eq!(
            quiet.ends_after(chrono_tz::Asia::Shanghai, late),
            Some(parse_instant("2026-03-02T09:00:00+08:00").unwrap())
        );
        let nine = parse_instant("2026-03-01T09:00:00+08:00").unwrap();
        assert_eq!(quiet.ends_after(chrono_tz::Asia::Shanghai, nine), None, "the window ends at 09:00");
    }
}
