//! Day arithmetic in the brand's calendar. A `Day` is a local date as days
//! since 1970-01-01; the host computes every `*-day` field in the brand's time
//! zone, so a plugin never needs a time-zone database.

use crate::{Date, Day};

/// The date of a day number (proleptic Gregorian calendar).
pub fn date_of(day: Day) -> Date {
    // Howard Hinnant's civil_from_days.
    let z = day as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date { year: y as i32, month: m, day: d }
}

/// The day number of a date. Out-of-range days roll over (31 April is 1 May).
pub fn day_of(date: &Date) -> Day {
    // Howard Hinnant's days_from_civil.
    let y = date.year as i64 - i64::from(date.month <= 2);
    let m = date.month as i64;
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + date.day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as Day
}

/// Whether `year` has a 29 February (the Gregorian rule).
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1–12) of `year`.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// The anniversary of `date` in `year`. A 29 February falls on 28 February in
/// years without one.
pub fn anniversary_in(date: &Date, year: i32) -> Date {
    let day = date.day.min(days_in_month(year, date.month));
    Date { year, month: date.month, day }
}

/// Whole years from `since` to `on` (an age, or years of membership).
/// A 29 February start completes its years on 28 February in common years,
/// as [`anniversary_in`] says.
pub fn whole_years(since: &Date, on: &Date) -> i32 {
    let anniversary = anniversary_in(since, on.year);
    let before_anniversary = (on.month, on.day) < (anniversary.month, anniversary.day);
    on.year - since.year - i32::from(before_anniversary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_days_across_four_centuries() {
        for day in -146_097 * 2..146_097 * 2 {
            assert_eq!(day_of(&date_of(day)), day);
        }
        assert_eq!(date_of(0), Date { year: 1970, month: 1, day: 1 });
        assert_eq!(date_of(20_513), Date { year: 2026, month: 3, day: 1 });
    }

    #[test]
    fn leap_day_anniversary_falls_on_28_february_in_common_years() {
        let leap = Date { year: 2024, month: 2, day: 29 };
        assert_eq!(anniversary_in(&leap, 2025), Date { year: 2025, month: 2, day: 28 });
        assert_eq!(anniversary_in(&leap, 2028), leap_in(2028));
        assert_eq!(whole_years(&leap, &Date { year: 2025, month: 2, day: 27 }), 0);
        assert_eq!(whole_years(&leap, &Date { year: 2025, month: 2, day: 28 }), 1);
        assert_eq!(whole_years(&leap, &Date { year: 2028, month: 2, day: 28 }), 3);
        assert_eq!(whole_years(&leap, &Date { year: 2028, month: 2, day: 29 }), 4);
    }

    fn leap_in(year: i32) -> Date {
        Date { year, month: 2, day: 29 }
    }
}
