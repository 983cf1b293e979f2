//! The period's calendar: which days it has and what each is like for shoppers.
//!
//! The generator counts time as `i64` seconds since 1970-01-01 in *local* (Asia/Shanghai)
//! wall-clock time, so that a day is a division and an hour of the day a remainder; the UTC offset
//! is applied only when an instant is written (`output.rs`). That is sound only while the offset
//! stays the same, which [`Calendar::new`] checks. Everything here is computed once, before any
//! member is drawn, and draws nothing at random except the join day a member asks for.
//!
//! Rows of the distribution table in `docs/simulation.md` made here: joining (the weight of each
//! day), demand multiplier, and the 618 and Double 11 campaigns behind the coupons.

use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate, Offset, TimeZone, Weekday};
use rand::Rng;

use crate::output::Rfc3339;
use crate::tables::CNY;
use crate::GenerateOptions;

pub(crate) const DAY: i64 = 86_400;
pub(crate) const HOUR: i64 = 3_600;
/// chrono's day number of 1970-01-01: instants are seconds since then in *local* wall-clock time.
const UNIX_EPOCH_CE_DAY: i64 = 719_163;

/// The period's days and what each is like for shoppers. Instants are `i64` local seconds.
pub(crate) struct Calendar {
    first_day: i64,
    pub(crate) days: i64,
    pub(crate) end: i64,
    offset: i64,
    pub(crate) demand: Vec<f64>,
    pub(crate) demand_max: f64,
    pub(crate) demand_mean: f64,
    pub(crate) month: Vec<u8>,
    pub(crate) promo: Vec<bool>,
    join_cdf: Vec<f64>,
    /// First day of each 618 and Double 11 in the period, with its coupon's value.
    pub(crate) campaigns: Vec<(i64, u32)>,
}

impl Calendar {
    pub(crate) fn new(options: &GenerateOptions) -> Result<Self> {
        if options.months == 0 {
            bail!("months must be at least 1");
        }
        let end = options.end;
        let month = end.year() * 12 + end.month0() as i32 - (options.months as i32 - 1);
        let start = NaiveDate::from_ymd_opt(month.div_euclid(12), month.rem_euclid(12) as u32 + 1, 1)
            .context("start of the period out of range")?;
        let offset = shanghai_offset(start)?;
        if offset != shanghai_offset(end)? {
            bail!("Asia/Shanghai changed its UTC offset inside the period");
        }
        let days = (end - start).num_days() + 1;
        let dates: Vec<NaiveDate> = start.iter_days().take(days as usize).collect();
        let demand: Vec<f64> = dates.iter().map(|&d| demand_multiplier(d)).collect();
        let mut total = 0.0;
        let join_cdf = (0..dates.len()).map(|i| {
            total += join_weight(dates[i], i as f64 / days as f64);
            total
        });
        let first_day = start.num_days_from_ce() as i64 - UNIX_EPOCH_CE_DAY;
        Ok(Calendar {
            first_day,
            days,
            offset,
            end: (first_day + days) * DAY - 1,
            demand_max: demand.iter().cloned().fold(1.0, f64::max),
            demand_mean: demand.iter().sum::<f64>() / days as f64,
            demand,
            month: dates.iter().map(|d| d.month() as u8).collect(),
            promo: dates.iter().map(|&d| promo_day(d)).collect(),
            join_cdf: join_cdf.collect(),
            campaigns: (0..days).filter_map(|i| campaign(dates[i as usize]).map(|value| (i, value))).collect(),
        })
    }

    pub(crate) fn midnight(&self, day: i64) -> i64 {
        (self.first_day + day) * DAY
    }

    pub(crate) fn day_of(&self, at: i64) -> i64 {
        at.div_euclid(DAY) - self.first_day
    }

    /// The calendar month (1–12) of an instant in the period.
    pub(crate) fn month_of(&self, at: i64) -> usize {
        self.month[self.day_of(at).clamp(0, self.days - 1) as usize] as usize
    }

    pub(crate) fn sample_join_day(&self, rng: &mut impl Rng, earliest: i64) -> i64 {
        let low = if earliest > 0 { self.join_cdf[earliest as usize - 1] } else { 0.0 };
        let x = low + rng.random::<f64>() * (self.join_cdf[self.days as usize - 1] - low);
        (self.join_cdf.partition_point(|&c| c <= x) as i64).min(self.days - 1)
    }

    pub(crate) fn rfc3339(&self, at: i64, utc: bool) -> Rfc3339 {
        Rfc3339 { local: at, offset: self.offset, utc }
    }
}

fn shanghai_offset(date: NaiveDate) -> Result<i64> {
    let noon = date.and_hms_opt(12, 0, 0).context("bad date")?;
    let offset = chrono_tz::Asia::Shanghai.from_utc_datetime(&noon).offset().fix();
    Ok(offset.local_minus_utc() as i64)
}

pub(crate) fn date_of_epoch_day(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((day + UNIX_EPOCH_CE_DAY) as i32).expect("date in range")
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn promo_day(date: NaiveDate) -> bool {
    matches!((date.month(), date.day()), (6, 1..=18) | (11, 1..=11))
}

/// The coupon value of a campaign starting that day.
fn campaign(date: NaiveDate) -> Option<u32> {
    match (date.month(), date.day()) {
        (6, 1) => Some(50),
        (11, 1) => Some(100),
        _ => None,
    }
}

/// Purchase demand of a day relative to an ordinary weekday.
fn demand_multiplier(date: NaiveDate) -> f64 {
    let base = match (date.month(), date.day()) {
        (6, 18) => 3.0,
        (6, 1..=17) => 1.8,
        (11, 11) => 4.0,
        (11, 1..=10) => 2.2,
        _ => cny_multiplier(date),
    };
    base * if is_weekend(date) { 1.3 } else { 1.0 }
}

/// New clothes are bought in the three weeks before the New Year; shops are quiet its first week.
fn cny_multiplier(date: NaiveDate) -> f64 {
    for &(y, m, d) in &CNY {
        match (NaiveDate::from_ymd_opt(y, m, d).unwrap() - date).num_days() {
            1..=21 => return 1.6,
            -6..=0 => return 0.6,
            _ => {}
        }
    }
    1.0
}

/// Sign-ups grow over the period and burst around the big promotions.
fn join_weight(date: NaiveDate, progress: f64) -> f64 {
    let burst = match (date.month(), date.day()) {
        (6, 1..=18) => 2.5,
        (11, 1..=11) => 3.0,
        _ => 1.0,
    };
    (0.5 + progress) * burst * if is_weekend(date) { 1.2 } else { 1.0 }
}
