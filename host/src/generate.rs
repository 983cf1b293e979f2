//! Deterministic, seeded generator of realistic member data sets for trying strategies.
//!
//! `generate` writes `members.csv`, `orders.csv`, `events.csv` and `products.csv` covering the
//! `months` calendar months that end on `end` (Asia/Shanghai). The same options always give
//! byte-identical files: every member draws from its own ChaCha8 stream (seed, member index), so
//! the member loop could be split across threads without changing the output.
//!
//! | what | distribution |
//! |---|---|
//! | life-cycle mix | 15% WeCom follower, never buys · 20% one purchase · 30% occasional, 2–4 orders/yr · 12% loyal, 6–12/yr, half online · 20% lapsed, 3–6/yr until a uniform stop day · 3% newcomer through a group buy |
//! | joining | whole period, growing 0.5→1.5×; 618 (1–18 Jun) 2.5×, Double 11 (1–11 Nov) 3×, weekends 1.2× |
//! | first order | 40% (loyal 70%) register at a till and buy 5–40 min later; the others after Exp(mean 75 days) |
//! | inter-purchase time | exponential, mean 365/rate days (occasional ≈120, lapsed ≈80, loyal ≈40), thinned by the day's demand multiplier; 3% get a same-day add-on in the other channel |
//! | demand multiplier | 1.0; weekend ×1.3; 618 1.8 (18 Jun 3.0); Double 11 2.2 (11 Nov 4.0); 21 days before Chinese New Year 1.6, its first week 0.6 |
//! | category | 1–3 favourite categories weigh 6×, times a monthly season factor (down jackets Oct–Jan …) |
//! | price bands (yuan) | tops 99–259 · dress 299–799 · knitwear 199–599 · outerwear 399–1299 · down_jacket 799–1999 · pants 159–459 · skirt 159–459 · accessories 49–199 · shoes 199–699 |
//! | price paid | 100% (70%), 90% (20%), 80% (10%); promotions 70–85%; group price 80%; minus a redeemed coupon |
//! | time of day | store 10:00–22:00, busiest 14–20h; online all day, peak 20–23h, some after midnight |
//! | UTC share | 40% of online orders and 18% of events are written with `Z` (≈15% of all instants); the rest `+08:00` |
//! | WeCom | followers 100%, loyal 85%, others 85% if registered online / 40% at a till, group-buy newcomers 40%; on the join day (half) or 1–60 days later; 3% later deleted |
//! | mini-program visits | every 14 (loyal), 40 (occasional, lapsed), 60 (followers) or 90 (one purchase) days on average, 120 after lapsing; a product page before half the online orders |
//! | group buys | newcomers join one on their join day and buy its SKU (group price) minutes later in 85% of cases; 30% of other online orders of a `group_buy` SKU; the referrer is a customer who ordered in the 30 days before |
//! | coupons | 20 yuan welcome to 60% of WeCom adds; 50 (618) / 100 (Double 11) to 30% of members; redeemed by 70% of those who order within 30 days |
//! | products | 40 launched in the 13 months before; drops every 5–7 days in waves (Mar spring, May–Jun summer, Aug–Sep autumn, Oct–Nov winter), else every 10–14 days; 20% `hot`, 15% `group_buy`, drops `new` |
//! | members | level by spend (<600, <2000, <5000, more yuan); 85% birthday (80% of them born 1980–2004), 1 in 300 on 29 Feb; tz empty 92%, Asia/Shanghai 5% |

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate, Offset, TimeZone, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct GenerateOptions {
    pub members: u32,
    pub months: u32,
    pub seed: u64,
    pub end: NaiveDate,
}

pub struct GenerateSummary {
    pub members: u64,
    pub orders: u64,
    pub events: u64,
    pub products: u64,
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// chrono's day number of 1970-01-01: instants are seconds since then in *local* wall-clock time.
const UNIX_EPOCH_CE_DAY: i64 = 719_163;
const UNRESOLVED: u32 = u32::MAX;
const UTC_SHARE_ONLINE_ORDERS: f64 = 0.40;
const UTC_SHARE_EVENTS: f64 = 0.18;

// ------------------------------------------------------------------------------------ tables

/// The lists the generator draws from, left unformatted so that they read as tables.
#[rustfmt::skip]
mod tables {
    use super::Kind;

    pub struct Category { pub name: &'static str, pub prefix: &'static str, pub nouns: &'static [&'static str], pub price: (u32, u32), pub season: [f64; 12] }

    pub const DRESS: u8 = 0; pub const TOPS: u8 = 1; pub const KNITWEAR: u8 = 2; pub const OUTERWEAR: u8 = 3; pub const DOWN_JACKET: u8 = 4;
    pub const PANTS: u8 = 5; pub const SKIRT: u8 = 6; pub const ACCESSORIES: u8 = 7; pub const SHOES: u8 = 8;
    /// Price bands in yuan and the demand factor of each calendar month, January first.
    pub const CATEGORIES: [Category; 9] = [
        Category { name: "dress", prefix: "DR", nouns: &["连衣裙", "衬衫裙", "吊带裙"], price: (299, 799), season: [0.4, 0.5, 0.9, 1.2, 1.5, 1.6, 1.5, 1.2, 0.9, 0.6, 0.4, 0.4] },
        Category { name: "tops", prefix: "TP", nouns: &["T恤", "衬衫", "卫衣", "背心"], price: (99, 259), season: [0.6, 0.7, 1.0, 1.2, 1.4, 1.4, 1.3, 1.2, 1.0, 0.8, 0.7, 0.6] },
        Category { name: "knitwear", prefix: "KN", nouns: &["毛衣", "针织开衫", "羊毛衫"], price: (199, 599), season: [1.3, 1.1, 0.8, 0.5, 0.3, 0.2, 0.2, 0.5, 1.0, 1.4, 1.5, 1.5] },
        Category { name: "outerwear", prefix: "OW", nouns: &["风衣", "西装外套", "夹克", "大衣"], price: (399, 1299), season: [0.9, 0.9, 1.2, 0.9, 0.4, 0.2, 0.2, 0.6, 1.3, 1.5, 1.3, 1.0] },
        Category { name: "down_jacket", prefix: "DJ", nouns: &["短款羽绒服", "长款羽绒服", "轻薄羽绒服"], price: (799, 1999), season: [1.6, 0.9, 0.3, 0.1, 0.05, 0.05, 0.05, 0.2, 0.6, 1.6, 2.2, 2.0] },
        Category { name: "pants", prefix: "PT", nouns: &["阔腿裤", "牛仔裤", "休闲裤"], price: (159, 459), season: [1.0, 1.0, 1.1, 1.0, 0.9, 0.8, 0.8, 0.9, 1.1, 1.1, 1.1, 1.0] },
        Category { name: "skirt", prefix: "SK", nouns: &["半身裙", "百褶裙", "A字裙"], price: (159, 459), season: [0.6, 0.7, 1.0, 1.2, 1.4, 1.4, 1.3, 1.1, 0.9, 0.7, 0.6, 0.6] },
        Category { name: "accessories", prefix: "AC", nouns: &["围巾", "帽子", "腰带", "托特包"], price: (49, 199), season: [1.2, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.1, 1.3, 1.4] },
        Category { name: "shoes", prefix: "SH", nouns: &["小白鞋", "乐福鞋", "短靴"], price: (199, 699), season: [1.0, 1.0, 1.1, 1.1, 1.0, 0.9, 0.9, 1.0, 1.1, 1.1, 1.0, 1.0] },
    ];
    pub const POPULARITY: [f64; 9] = [15.0, 20.0, 10.0, 9.0, 7.0, 14.0, 9.0, 8.0, 8.0];
    pub const STYLES: [&str; 14] = ["法式", "复古", "简约", "通勤", "碎花", "高腰", "宽松", "修身", "撞色", "条纹", "格纹", "刺绣", "廓形", "经典"];
    pub const OFF_SEASON: [u8; 4] = [TOPS, PANTS, ACCESSORIES, SHOES];

    pub const KINDS: [(Kind, f64); 6] = [(Kind::Follower, 15.0), (Kind::OneTime, 20.0), (Kind::Occasional, 30.0), (Kind::Loyal, 12.0),
        (Kind::Lapsed, 20.0), (Kind::GroupBuyNewcomer, 3.0)];

    pub const SURNAMES: [&str; 24] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋"];
    pub const SURNAME_WEIGHTS: [f64; 24] = [7.1, 7.0, 6.7, 5.4, 4.5, 3.1, 2.2, 2.0, 1.9, 1.8, 1.5, 1.4, 1.2, 1.1, 1.1, 1.1, 1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7, 0.7];
    pub const GIVEN: [&str; 40] = ["静", "敏", "燕", "艳", "丽", "娟", "霞", "婷", "雪", "琳", "晶", "颖", "欣", "怡", "佳", "梦", "雨", "思", "晓", "宇",
        "涵", "琪", "萱", "瑶", "月", "玲", "芳", "慧", "洁", "倩", "伟", "磊", "强", "杰", "浩", "子", "一", "诺", "可", "安"];
    pub const OTHER_ZONES: [&str; 5] = ["Asia/Hong_Kong", "Asia/Tokyo", "Europe/London", "America/Los_Angeles", "Australia/Sydney"];
    pub const PAGES: [&str; 5] = ["home", "new_arrivals", "group_buy", "member_center", "coupon_center"];
    /// The weights of PAGES, then of a product page.
    pub const PAGE_WEIGHTS: [f64; 6] = [30.0, 15.0, 8.0, 10.0, 7.0, 30.0];
    /// The weight of each opening hour of a store, 10:00 to 21:00.
    pub const STORE_HOURS: [f64; 12] = [2.0, 3.0, 4.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0, 6.0, 5.0, 3.0];
    pub const ONLINE_HOURS: [f64; 24] = [3.0, 2.0, 1.0, 0.5, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 4.0, 5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 5.0, 6.0, 8.0, 9.0, 8.0, 6.0];
    /// Chinese New Year's Day; outside these years the calendar has no New Year effect.
    pub const CNY: [(i32, u32, u32); 12] = [(2020, 1, 25), (2021, 2, 12), (2022, 2, 1), (2023, 1, 22), (2024, 2, 10), (2025, 1, 29),
        (2026, 2, 17), (2027, 2, 6), (2028, 1, 26), (2029, 2, 13), (2030, 2, 3), (2031, 1, 23)];
}
use tables::*;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Follower,
    OneTime,
    Occasional,
    Loyal,
    Lapsed,
    GroupBuyNewcomer,
}

/// Categories of each month's launch wave; empty for off-season months.
fn wave_categories(month: u32) -> &'static [u8] {
    match month {
        3 => &[DRESS, TOPS, SKIRT, OUTERWEAR, SHOES],
        5 | 6 => &[DRESS, SKIRT, TOPS, ACCESSORIES],
        8 | 9 => &[KNITWEAR, OUTERWEAR, PANTS, DOWN_JACKET, SHOES],
        10 | 11 => &[DOWN_JACKET, OUTERWEAR, KNITWEAR, ACCESSORIES],
        _ => &[],
    }
}

// ----------------------------------------------------------------------------------- records

#[derive(Clone, Copy)]
struct Order {
    at: i64,
    member: u32,
    cents: u32,
    product: u16,
    online: bool,
    utc: bool,
    coupon: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum EventKind {
    Visit,
    CouponIssued,
    CouponRedeemed,
    GroupBuyJoined,
    WecomDeleted,
}

/// `a` and `b`: the page (index into PAGES, or PAGES.len() + product); the coupon's number and
/// value; the group buy's referrer and product.
#[derive(Clone, Copy)]
struct Event {
    at: i64,
    member: u32,
    kind: EventKind,
    utc: bool,
    a: u32,
    b: u32,
}

struct Product {
    category: u8,
    number: u32,
    name: String,
    cents: u32,
    launched: i64,
    hot: bool,
    group_buy: bool,
}

/// The period's days and what each is like for shoppers. Instants are `i64` local seconds.
struct Calendar {
    first_day: i64,
    days: i64,
    end: i64,
    offset: i64,
    demand: Vec<f64>,
    demand_max: f64,
    demand_mean: f64,
    month: Vec<u8>,
    promo: Vec<bool>,
    join_cdf: Vec<f64>,
    /// First day of each 618 and Double 11 in the period, with its coupon's value.
    campaigns: Vec<(i64, u32)>,
}

struct World {
    cal: Calendar,
    /// In launch order, so each category's and the group-buy list are too.
    products: Vec<Product>,
    by_category: Vec<Vec<u16>>,
    group_buy: Vec<u16>,
    guides_per_store: Vec<u8>,
}

/// Who a member is before anything happens to them.
#[derive(Clone, Copy)]
struct Member {
    index: u32,
    kind: Kind,
    joined: i64,
    in_store: bool,
    wecom: Option<i64>,
    online_share: f64,
    /// Lapsed members stop buying here; everyone else at the end of the data.
    stop: i64,
    favourites: [f64; 9],
}

// ------------------------------------------------------------------------------- entry point

pub fn generate(options: &GenerateOptions, out: &Path) -> Result<GenerateSummary> {
    let world = World::new(options)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let header = "member_id,name,level,birthday,joined_at,wecom_added_at,store_id,guide_id,tz";
    let mut members_csv = csv_file(out, "members.csv", header)?;
    let (mut orders, mut events) = (Vec::new(), Vec::new());
    for index in 0..options.members {
        let mut life = Life::new(&world, options.seed, index, &mut orders, &mut events);
        life.simulate();
        life.write_member(&mut members_csv)?;
    }
    members_csv.flush()?;

    orders.sort_unstable_by_key(|o| (o.at, o.member, o.product));
    let mut referrer_rng = stream_rng(options.seed, u64::MAX);
    resolve_referrers(&mut events, &orders, &mut referrer_rng);
    events.sort_unstable_by_key(|e| (e.at, e.member, e.kind, e.a));
    write_products(&world, out)?;
    write_orders(&world, &orders, out)?;
    write_events(&world, &events, out)?;
    let count = |n: usize| n as u64;
    Ok(GenerateSummary {
        members: options.members as u64,
        orders: count(orders.len()),
        events: count(events.len()),
        products: count(world.products.len()),
    })
}

fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

// ---------------------------------------------------------------------------------- calendar

impl Calendar {
    fn new(options: &GenerateOptions) -> Result<Self> {
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

    fn midnight(&self, day: i64) -> i64 {
        (self.first_day + day) * DAY
    }

    fn day_of(&self, at: i64) -> i64 {
        at.div_euclid(DAY) - self.first_day
    }

    /// The calendar month (1–12) of an instant in the period.
    fn month_of(&self, at: i64) -> usize {
        self.month[self.day_of(at).clamp(0, self.days - 1) as usize] as usize
    }

    fn sample_join_day(&self, rng: &mut impl Rng, earliest: i64) -> i64 {
        let low = if earliest > 0 { self.join_cdf[earliest as usize - 1] } else { 0.0 };
        let x = low + rng.random::<f64>() * (self.join_cdf[self.days as usize - 1] - low);
        (self.join_cdf.partition_point(|&c| c <= x) as i64).min(self.days - 1)
    }

    fn rfc3339(&self, at: i64, utc: bool) -> Rfc3339 {
        Rfc3339 { local: at, offset: self.offset, utc }
    }
}

fn shanghai_offset(date: NaiveDate) -> Result<i64> {
    let noon = date.and_hms_opt(12, 0, 0).context("bad date")?;
    let offset = chrono_tz::Asia::Shanghai.from_utc_datetime(&noon).offset().fix();
    Ok(offset.local_minus_utc() as i64)
}

fn date_of_epoch_day(day: i64) -> NaiveDate {
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

// ------------------------------------------------------------------ world: stores and products

impl World {
    fn new(options: &GenerateOptions) -> Result<Self> {
        let cal = Calendar::new(options)?;
        let mut rng = stream_rng(options.seed, u64::MAX - 1);
        let guides_per_store = (0..24).map(|_| rng.random_range(3..=6)).collect();
        let products = catalogue(&cal, &mut rng);
        let mut by_category = vec![Vec::new(); CATEGORIES.len()];
        for (i, p) in products.iter().enumerate() {
            by_category[p.category as usize].push(i as u16);
        }
        let group_buy = (0..products.len() as u16).filter(|&i| products[i as usize].group_buy).collect();
        Ok(World { cal, products, by_category, group_buy, guides_per_store })
    }

    fn product(&self, index: u16) -> &Product {
        &self.products[index as usize]
    }

    /// A product of a category the member likes and the season favours, launched by `at`;
    /// hot and recent products are likelier.
    fn pick_product(&self, rng: &mut impl Rng, member: &Member, at: i64) -> Option<u16> {
        let month = self.cal.month_of(at);
        let weights: [f64; 9] = std::array::from_fn(|c| member.favourites[c] * CATEGORIES[c].season[month - 1]);
        let category = &self.by_category[pick(rng, &weights)];
        let launched = &category[..category.partition_point(|&p| self.product(p).launched <= at)];
        let weight = |p: u16| {
            let p = self.product(p);
            1.0 + 2.0 * f64::from(p.hot as u8) + 2.0 * f64::from((at - p.launched < 60 * DAY) as u8)
        };
        let mut x = rng.random::<f64>() * launched.iter().map(|&p| weight(p)).sum::<f64>();
        for &p in launched {
            x -= weight(p);
            if x < 0.0 {
                return Some(p);
            }
        }
        launched.last().copied()
    }

    fn pick_group_buy(&self, rng: &mut impl Rng, at: i64) -> Option<u16> {
        let launched = self.group_buy.partition_point(|&p| self.product(p).launched <= at);
        (launched > 0).then(|| self.group_buy[rng.random_range(0..launched)])
    }
}

/// A base catalogue launched in the year before the period, then seasonal drops through it.
fn catalogue(cal: &Calendar, rng: &mut impl Rng) -> Vec<Product> {
    let mut base_days: Vec<i64> = (0..40).map(|_| -rng.random_range(7..400)).collect();
    base_days.sort_unstable();
    let mut products = Vec::new();
    for day in base_days {
        let category = pick(rng, &POPULARITY) as u8;
        products.push(new_product(cal, rng, category, day));
    }
    let mut day = rng.random_range(0..7);
    while day < cal.days {
        let wave = wave_categories(cal.month[day as usize] as u32);
        // Weekly drops from a week before a wave starts, so no week of a wave goes without one.
        let next_week = cal.month[(day + 7).min(cal.days - 1) as usize] as u32;
        let in_wave = !wave.is_empty() || !wave_categories(next_week).is_empty();
        let (categories, count) = if wave.is_empty() { (&OFF_SEASON[..], 1) } else { (wave, rng.random_range(1..=2)) };
        for _ in 0..count {
            let category = categories[rng.random_range(0..categories.len())];
            products.push(new_product(cal, rng, category, day));
        }
        let gap = if in_wave { 5..=7 } else { 10..=14 };
        day += rng.random_range(gap);
    }
    // Group buys must be possible from the first day.
    let launched_before = |p: &Product| p.launched < cal.midnight(0);
    if !products.iter().any(|p| p.group_buy && launched_before(p)) {
        products[0].group_buy = true;
    }
    let mut next_number = [0u32; 9];
    for p in &mut products {
        next_number[p.category as usize] += 1;
        p.number = next_number[p.category as usize];
    }
    products
}

fn new_product(cal: &Calendar, rng: &mut impl Rng, category: u8, day: i64) -> Product {
    let c = &CATEGORIES[category as usize];
    let tens = rng.random_range(c.price.0 / 10..=c.price.1 / 10); // prices end in 9
    let style = STYLES[rng.random_range(0..STYLES.len())];
    let name = format!("{style}{}", c.nouns[rng.random_range(0..c.nouns.len())]);
    let (cents, launched) = ((tens * 10 + 9) * 100, cal.midnight(day) + 10 * HOUR);
    Product { category, number: 0, name, cents, launched, hot: rng.random_bool(0.2), group_buy: rng.random_bool(0.15) }
}

// ------------------------------------------------------------------------ one member's life

/// One member's simulation: its own random stream, appending its rows to the shared vectors.
struct Life<'a> {
    world: &'a World,
    rng: ChaCha8Rng,
    m: Member,
    orders: &'a mut Vec<Order>,
    events: &'a mut Vec<Event>,
    /// Where this member's orders start in `orders`.
    own_orders: usize,
    coupons: u32,
}

impl<'a> Life<'a> {
    fn new(world: &'a World, seed: u64, index: u32, orders: &'a mut Vec<Order>, events: &'a mut Vec<Event>) -> Self {
        let (cal, mut rng) = (&world.cal, stream_rng(seed, index as u64));
        let kind = KINDS[pick(&mut rng, &KINDS.map(|k| k.1))].0;
        let in_store = kind != Kind::GroupBuyNewcomer && rng.random_bool(if kind == Kind::Loyal { 0.7 } else { 0.4 });
        // Group buys need earlier customers to refer the newcomer.
        let earliest = if kind == Kind::GroupBuyNewcomer { 30.min(cal.days - 1) } else { 0 };
        let joined = cal.midnight(cal.sample_join_day(&mut rng, earliest)) + time_of_day(&mut rng, !in_store);
        let online_share = if kind == Kind::Loyal { 0.5 } else { [0.1, 0.4, 0.8][pick(&mut rng, &[5.0, 3.0, 2.0])] };
        let mut favourites = [1.0; 9];
        for _ in 0..rng.random_range(1..=3) {
            favourites[pick(&mut rng, &POPULARITY)] = 6.0;
        }
        let mut m = Member { index, kind, joined, in_store, wecom: None, online_share, stop: cal.end, favourites };
        m.wecom = wecom_add(cal, &mut rng, &m);
        Life { world, rng, m, own_orders: orders.len(), orders, events, coupons: 0 }
    }

    fn simulate(&mut self) {
        self.plan_orders();
        self.orders[self.own_orders..].sort_unstable_by_key(|o| o.at);
        self.add_group_buys();
        self.add_coupons();
        self.add_visits();
        if let Some(added) = self.m.wecom.filter(|_| self.rng.random_bool(0.03)) {
            let at = added + (exp(&mut self.rng, 120.0) * DAY as f64) as i64 + HOUR;
            if at <= self.world.cal.end {
                self.event(at, EventKind::WecomDeleted, 0, 0);
            }
        }
    }

    fn plan_orders(&mut self) {
        let cal = &self.world.cal;
        let Some(first) = self.first_purchase() else {
            return;
        };
        let rng = &mut self.rng;
        let per_year = match self.m.kind {
            Kind::Follower | Kind::OneTime => return,
            Kind::GroupBuyNewcomer if rng.random_bool(0.6) => return,
            Kind::Occasional | Kind::GroupBuyNewcomer => rng.random_range(2.0..4.0),
            Kind::Loyal => rng.random_range(6.0..12.0),
            Kind::Lapsed => rng.random_range(3.0..6.0),
        };
        if self.m.kind == Kind::Lapsed {
            self.m.stop = rng.random_range(first..=cal.end);
        }
        // Thinning: propose days at the peak rate, keep each with probability demand / peak.
        let peak_rate = per_year / 365.0 / cal.demand_mean * cal.demand_max;
        let mut t = (first - cal.midnight(0)) as f64 / DAY as f64;
        loop {
            t += exp(&mut self.rng, 1.0 / peak_rate);
            let day = t as i64;
            if cal.midnight(day) > self.m.stop {
                break;
            }
            if self.rng.random::<f64>() * cal.demand_max > cal.demand[day as usize] {
                continue;
            }
            let Some(at) = self.place_order(day, first + HOUR, None, None) else {
                continue;
            };
            if self.rng.random_bool(0.03) {
                // Back the same day for an add-on in the other channel.
                let online = !self.orders.last().unwrap().online;
                self.place_order(day, at + HOUR, Some(online), None);
            }
        }
    }

    /// Buys at the till when registering, through a group buy, or online some time later.
    fn first_purchase(&mut self) -> Option<i64> {
        let (m, cal) = (self.m, &self.world.cal);
        match m.kind {
            Kind::Follower => None,
            Kind::GroupBuyNewcomer if self.rng.random_bool(0.85) => {
                let joined_group = m.joined + self.rng.random_range(30..180);
                let product = self.world.pick_group_buy(&mut self.rng, joined_group)?;
                self.event(joined_group, EventKind::GroupBuyJoined, UNRESOLVED, product as u32);
                let paid = joined_group + self.rng.random_range(120..1800);
                self.place_order(cal.day_of(paid), paid, Some(true), Some(product))
            }
            _ if m.in_store => {
                let paid = m.joined + self.rng.random_range(300..2400);
                self.place_order(cal.day_of(m.joined), paid, Some(false), None)
            }
            _ => {
                let day = cal.day_of(m.joined) + exp(&mut self.rng, 75.0) as i64;
                self.place_order(day, m.joined, None, None)
            }
        }
    }

    /// Places an order on `day`, not before `not_before`, if the shop is still open then.
    /// `group_buy` forces that product at the group price.
    fn place_order(&mut self, day: i64, not_before: i64, online: Option<bool>, group_buy: Option<u16>) -> Option<i64> {
        let (cal, rng) = (&self.world.cal, &mut self.rng);
        if day >= cal.days {
            return None;
        }
        let promo = cal.promo[day as usize];
        let online_share = self.m.online_share + if promo { 0.25 } else { 0.0 };
        let online = online.unwrap_or_else(|| rng.random_bool(online_share.min(1.0)));
        let at = (cal.midnight(day) + time_of_day(rng, online)).max(not_before);
        let closing = cal.midnight(day) + if online { DAY } else { 22 * HOUR };
        if at >= closing || at > cal.end {
            return None;
        }
        let product = match group_buy {
            Some(p) => p,
            None => self.world.pick_product(rng, &self.m, at)?,
        };
        let factor = match (group_buy, promo) {
            (Some(_), _) => 0.8,
            (None, true) => [0.7, 0.75, 0.8, 0.85][rng.random_range(0..4)],
            (None, false) => [1.0, 0.9, 0.8][pick(rng, &[7.0, 2.0, 1.0])],
        };
        let cents = (self.world.product(product).cents as f64 * factor).round() as u32;
        let utc = online && rng.random_bool(UTC_SHARE_ONLINE_ORDERS);
        self.orders.push(Order { at, member: self.m.index, cents, product, online, utc, coupon: false });
        Some(at)
    }

    /// Customers sometimes buy a group-buy item online through a friend's group.
    fn add_group_buys(&mut self) {
        let skip = (self.m.kind == Kind::GroupBuyNewcomer) as usize; // their first order has one
        for i in self.own_orders + skip..self.orders.len() {
            let o = self.orders[i];
            if o.online && self.world.product(o.product).group_buy && self.rng.random_bool(0.3) {
                let at = (o.at - self.rng.random_range(60..600)).max(self.m.joined);
                self.event(at, EventKind::GroupBuyJoined, UNRESOLVED, o.product as u32);
            }
        }
    }

    fn add_coupons(&mut self) {
        if let Some(added) = self.m.wecom.filter(|_| self.rng.random_bool(0.6)) {
            let at = added + self.rng.random_range(30..600);
            self.issue_coupon(at, 20);
        }
        let cal = &self.world.cal;
        for &(day, value) in &cal.campaigns {
            let at = cal.midnight(day) + 10 * HOUR + self.rng.random_range(0..7200);
            if at > self.m.joined && self.rng.random_bool(0.3) {
                self.issue_coupon(at, value);
            }
        }
    }

    /// Issues a coupon; 70% of the members who order within 30 days use it on that order.
    fn issue_coupon(&mut self, at: i64, value: u32) {
        if at > self.world.cal.end {
            return;
        }
        self.coupons += 1;
        self.event(at, EventKind::CouponIssued, self.coupons, value);
        let usable = |o: &&mut Order| o.at > at && o.at <= at + 30 * DAY && !o.coupon && o.cents >= value * 300;
        let Some(order) = self.orders[self.own_orders..].iter_mut().find(usable) else {
            return;
        };
        if self.rng.random_bool(0.7) {
            order.coupon = true;
            order.cents -= value * 100;
            let redeemed = order.at;
            self.event(redeemed, EventKind::CouponRedeemed, self.coupons, 0);
        }
    }

    /// Visits at a rate by life-cycle stage, plus a product page before half the online orders.
    fn add_visits(&mut self) {
        let (m, world) = (self.m, self.world);
        let mean_gap = match m.kind {
            Kind::Loyal => 14.0,
            Kind::Occasional | Kind::Lapsed => 40.0,
            Kind::OneTime => 90.0,
            Kind::Follower | Kind::GroupBuyNewcomer => 60.0,
        };
        let mut t = world.cal.day_of(m.joined) as f64;
        loop {
            let lapsed = world.cal.midnight(t as i64) > m.stop;
            t += exp(&mut self.rng, if lapsed { 120.0 } else { mean_gap });
            if t as i64 >= world.cal.days {
                break;
            }
            let at = world.cal.midnight(t as i64) + time_of_day(&mut self.rng, true);
            if at < m.joined {
                continue;
            }
            let page = match pick(&mut self.rng, &PAGE_WEIGHTS) {
                p if p < PAGES.len() => Some(p),
                _ => world.pick_product(&mut self.rng, &m, at).map(|p| PAGES.len() + p as usize),
            };
            self.event(at, EventKind::Visit, page.unwrap_or(0) as u32, 0);
        }
        for i in self.own_orders..self.orders.len() {
            let o = self.orders[i];
            if o.online && self.rng.random_bool(0.5) {
                let at = (o.at - self.rng.random_range(60..1200)).max(m.joined);
                let page = (PAGES.len() + o.product as usize) as u32;
                self.event(at, EventKind::Visit, page, 0);
            }
        }
    }

    fn event(&mut self, at: i64, kind: EventKind, a: u32, b: u32) {
        let utc = self.rng.random_bool(UTC_SHARE_EVENTS);
        self.events.push(Event { at, member: self.m.index, kind, utc, a, b });
    }

    /// Writes the member's row; name, birthday, store and time zone are drawn only here.
    fn write_member(&mut self, w: &mut impl Write) -> Result<()> {
        let (m, world, rng) = (self.m, self.world, &mut self.rng);
        let spend = self.orders[self.own_orders..].iter().map(|o| o.cents as u64);
        let level = level_for(spend.sum());
        let surname = SURNAMES[pick(rng, &SURNAME_WEIGHTS)];
        let given = GIVEN[rng.random_range(0..GIVEN.len())];
        let given2 = if rng.random_bool(0.7) { GIVEN[rng.random_range(0..GIVEN.len())] } else { "" };
        let birthday = Maybe(birthday(rng, m.index));
        let store = rng.random_range(0..world.guides_per_store.len());
        let guide = rng.random_range(1..=world.guides_per_store[store]);
        let tz = match pick(rng, &[92.0, 5.0, 3.0]) {
            0 => "",
            1 => "Asia/Shanghai",
            _ => OTHER_ZONES[rng.random_range(0..OTHER_ZONES.len())],
        };
        let (id, store) = (m.index + 1, store + 1);
        let joined = world.cal.rfc3339(m.joined, false);
        let wecom = Maybe(m.wecom.map(|at| world.cal.rfc3339(at, false)));
        let name = format_args!("{surname}{given}{given2}");
        write!(w, "M{id:06},{name},{level},{birthday},{joined},{wecom},")?;
        Ok(writeln!(w, "S{store:02},G{store:02}{guide:02},{tz}")?)
    }
}

fn wecom_add(cal: &Calendar, rng: &mut impl Rng, m: &Member) -> Option<i64> {
    // Guides add most members who registered online; at the till many decline.
    let p = match m.kind {
        Kind::Follower => 1.0,
        Kind::Loyal => 0.85,
        Kind::GroupBuyNewcomer => 0.4,
        _ if m.in_store => 0.4,
        _ => 0.85,
    };
    if !rng.random_bool(p) {
        return None;
    }
    let at = if rng.random_bool(0.5) {
        m.joined + rng.random_range(60..600) // scanned the guide's QR code while registering
    } else {
        cal.midnight(cal.day_of(m.joined) + rng.random_range(1..=60)) + time_of_day(rng, true)
    };
    (at <= cal.end).then_some(at)
}

/// Each group buy was opened by a customer who ordered in the 30 days before (the latest earlier
/// one if none did); a group buy nobody could have opened is dropped.
fn resolve_referrers(events: &mut Vec<Event>, orders: &[Order], rng: &mut impl Rng) {
    events.retain_mut(|e| {
        if e.kind != EventKind::GroupBuyJoined {
            return true;
        }
        let from = orders.partition_point(|o| o.at < e.at - 30 * DAY);
        let until = orders.partition_point(|o| o.at < e.at);
        let recent = (0..8).filter(|_| from < until).map(|_| orders[rng.random_range(from..until)]);
        let earlier = orders[..until].iter().rev().copied();
        let referrer = recent.chain(earlier).find(|o| o.member != e.member);
        referrer.map(|o| e.a = o.member).is_some()
    });
}

// -------------------------------------------------------------------------- sampling helpers

fn pick(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let mut x = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        x -= w;
        if x < 0.0 {
            return i;
        }
    }
    weights.len() - 1
}

/// An exponential draw: the gap between events of a Poisson process.
fn exp(rng: &mut impl Rng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// Seconds after local midnight: within opening hours in a store, any hour online.
fn time_of_day(rng: &mut impl Rng, online: bool) -> i64 {
    let hour = if online { pick(rng, &ONLINE_HOURS) } else { 10 + pick(rng, &STORE_HOURS) };
    hour as i64 * HOUR + rng.random_range(0..HOUR)
}

fn level_for(spend_cents: u64) -> u8 {
    match spend_cents / 100 {
        0..600 => 1,
        600..2000 => 2,
        2000..5000 => 3,
        _ => 4,
    }
}

/// 85% have one, 80% of them born 1980–2004; 1 in 300 members on 29 February, a date tests need.
fn birthday(rng: &mut impl Rng, index: u32) -> Option<NaiveDate> {
    if index % 300 == 299 {
        return NaiveDate::from_ymd_opt(1960 + 4 * rng.random_range(0..12), 2, 29);
    }
    if !rng.random_bool(0.85) {
        return None;
    }
    let years = if rng.random_bool(0.8) { 1980..=2004 } else { 1960..=2006 };
    let year = rng.random_range(years);
    let leap = NaiveDate::from_ymd_opt(year, 2, 29).is_some();
    NaiveDate::from_yo_opt(year, rng.random_range(1..=365 + leap as u32))
}

// -------------------------------------------------------------------------------- CSV output

fn csv_file(dir: &Path, name: &str, header: &str) -> Result<BufWriter<File>> {
    let path = dir.join(name);
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    writeln!(w, "{header}")?;
    Ok(w)
}

fn write_products(world: &World, dir: &Path) -> Result<()> {
    let header = "sku,name,category,price,launched_at,tags";
    let mut w = csv_file(dir, "products.csv", header)?;
    for p in &world.products {
        let (category, price) = (CATEGORIES[p.category as usize].name, Money(p.cents));
        let launched = world.cal.rfc3339(p.launched, false);
        write!(w, "{},{},{category},{price},{launched},", Sku(p), p.name)?;
        let tags = [(p.hot, "hot"), (p.group_buy, "group_buy"), (p.launched >= world.cal.midnight(0), "new")];
        for (i, (_, tag)) in tags.iter().filter(|t| t.0).enumerate() {
            write!(w, "{}{tag}", if i > 0 { ";" } else { "" })?;
        }
        writeln!(w)?;
    }
    Ok(w.flush()?)
}

fn write_orders(world: &World, orders: &[Order], dir: &Path) -> Result<()> {
    let header = "order_id,member_id,placed_at,amount,channel,category,sku";
    let mut w = csv_file(dir, "orders.csv", header)?;
    for (i, o) in orders.iter().enumerate() {
        let p = world.product(o.product);
        let (id, member, amount) = (i + 1, o.member + 1, Money(o.cents));
        let (at, sku) = (world.cal.rfc3339(o.at, o.utc), Sku(p));
        let category = CATEGORIES[p.category as usize].name;
        let channel = if o.online { "online" } else { "store" };
        writeln!(w, "O{id:07},M{member:06},{at},{amount},{channel},{category},{sku}")?;
    }
    Ok(w.flush()?)
}

fn write_events(world: &World, events: &[Event], dir: &Path) -> Result<()> {
    let mut w = csv_file(dir, "events.csv", "event_id,member_id,kind,at,attrs")?;
    let mut attrs = String::new();
    for (i, e) in events.iter().enumerate() {
        let kind = match e.kind {
            EventKind::Visit => "mini_program_visit",
            EventKind::CouponIssued => "coupon_issued",
            EventKind::CouponRedeemed => "coupon_redeemed",
            EventKind::GroupBuyJoined => "group_buy_joined",
            EventKind::WecomDeleted => "wecom_deleted",
        };
        let (id, member, at) = (i + 1, e.member + 1, world.cal.rfc3339(e.at, e.utc));
        write!(w, "E{id:07},M{member:06},{kind},{at},")?;
        attrs.clear();
        write_attrs(&mut attrs, world, e)?;
        write_quoted(&mut w, &attrs)?;
        writeln!(w)?;
    }
    Ok(w.flush()?)
}

/// Compact JSON; every value is an id, a number or a fixed word, so nothing needs escaping.
fn write_attrs(json: &mut String, world: &World, e: &Event) -> fmt::Result {
    use fmt::Write;
    let coupon = format_args!("C{:07}{:02}", e.member + 1, e.a);
    match e.kind {
        EventKind::Visit => match e.a as usize {
            page if page < PAGES.len() => write!(json, r#"{{"page":"{}"}}"#, PAGES[page]),
            p => write!(json, r#"{{"page":"product/{}"}}"#, Sku(world.product((p - PAGES.len()) as u16))),
        },
        EventKind::CouponIssued => write!(json, r#"{{"coupon_id":"{coupon}","value":{}}}"#, e.b),
        EventKind::CouponRedeemed => write!(json, r#"{{"coupon_id":"{coupon}"}}"#),
        EventKind::GroupBuyJoined => {
            // One group per referrer and day: GB, the date as yymmdd, the referrer's number.
            let (yymmdd, referrer) = (date_of_epoch_day(e.at.div_euclid(DAY)).format("%y%m%d"), e.a + 1);
            let sku = Sku(world.product(e.b as u16));
            write!(json, r#"{{"referrer":"M{referrer:06}","group_id":"GB{yymmdd}{referrer:06}","sku":"{sku}"}}"#)
        }
        EventKind::WecomDeleted => Ok(()),
    }
}

/// Writes `text` as one CSV field: quoted, with its quotes doubled, when it needs to be.
fn write_quoted(w: &mut impl Write, text: &str) -> io::Result<()> {
    if !text.contains(['"', ',', '\n']) {
        return w.write_all(text.as_bytes());
    }
    w.write_all(b"\"")?;
    for (i, part) in text.split('"').enumerate() {
        w.write_all(if i > 0 { b"\"\"" } else { b"" })?;
        w.write_all(part.as_bytes())?;
    }
    w.write_all(b"\"")
}

/// An instant in RFC 3339: local time with the zone's offset, or the same instant in UTC (`Z`).
struct Rfc3339 {
    local: i64,
    offset: i64,
    utc: bool,
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let t = self.local - if self.utc { self.offset } else { 0 };
        let (date, s) = (date_of_epoch_day(t.div_euclid(DAY)), t.rem_euclid(DAY));
        let (y, mo, d) = (date.year(), date.month(), date.day());
        let (h, mi, sec) = (s / 3600, s / 60 % 60, s % 60);
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}")?;
        if self.utc {
            return f.write_str("Z");
        }
        let (sign, o) = (if self.offset < 0 { '-' } else { '+' }, self.offset.abs());
        write!(f, "{sign}{:02}:{:02}", o / 3600, o / 60 % 60)
    }
}

struct Money(u32);

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

struct Sku<'a>(&'a Product);

impl fmt::Display for Sku<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let prefix = CATEGORIES[self.0.category as usize].prefix;
        write!(f, "{prefix}-{:04}", self.0.number)
    }
}

/// An optional CSV value: empty when absent.
struct Maybe<T>(Option<T>);

impl<T: fmt::Display> fmt::Display for Maybe<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.as_ref().map_or(Ok(()), |value| value.fmt(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset};
    use std::collections::{HashMap, HashSet};

    fn options() -> GenerateOptions {
        GenerateOptions { members: 500, months: 8, seed: 11, end: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap() }
    }

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        std::env::temp_dir().join(format!("canvas-generate-{}-{nanos}-{name}", std::process::id()))
    }

    fn read(dir: &Path, file: &str, header: &str) -> Vec<csv::StringRecord> {
        let mut reader = csv::Reader::from_path(dir.join(file)).unwrap();
        let header_row: Vec<&str> = reader.headers().unwrap().iter().collect();
        assert_eq!(header_row.join(","), header);
        reader.records().map(Result::unwrap).collect()
    }

    fn instant(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn same_options_give_identical_files() {
        let (a, b) = (temp_dir("a"), temp_dir("b"));
        generate(&options(), &a).unwrap();
        generate(&options(), &b).unwrap();
        for file in ["members.csv", "orders.csv", "events.csv", "products.csv"] {
            assert!(std::fs::read(a.join(file)).unwrap() == std::fs::read(b.join(file)).unwrap(), "{file} differs");
        }
        std::fs::remove_dir_all(a).unwrap();
        std::fs::remove_dir_all(b).unwrap();
    }

    #[test]
    fn rows_reference_existing_members_and_products_in_time() {
        let dir = temp_dir("refs");
        let summary = generate(&options(), &dir).unwrap();
        let members =
            read(&dir, "members.csv", "member_id,name,level,birthday,joined_at,wecom_added_at,store_id,guide_id,tz");
        let joined: HashMap<&str, _> = members.iter().map(|m| (&m[0], instant(&m[4]))).collect();
        for m in &members {
            assert!(("1"..="4").contains(&&m[2]) && m[7][1..3] == m[6][1..], "{m:?}");
            assert!(m[5].is_empty() || instant(&m[5]) >= joined[&m[0]], "{m:?}");
        }
        let products = read(&dir, "products.csv", "sku,name,category,price,launched_at,tags");
        let product: HashMap<&str, _> = products.iter().map(|p| (&p[0], (&p[2], instant(&p[4])))).collect();
        assert!(products.iter().any(|p| p[5].contains("group_buy")));

        let orders = read(&dir, "orders.csv", "order_id,member_id,placed_at,amount,channel,category,sku");
        let mut bought: HashMap<&str, Vec<DateTime<FixedOffset>>> = HashMap::new();
        for (o, next) in orders.iter().zip(orders.iter().skip(1)) {
            assert!(instant(&o[2]) <= instant(&next[2]), "out of order: {o:?} {next:?}");
        }
        for o in &orders {
            let (at, (category, launched)) = (instant(&o[2]), product[&o[6]]);
            assert!(at >= joined[&o[1]] && at >= launched && o[5] == *category, "{o:?}");
            assert!(["store", "online"].contains(&&o[4]) && o[3].split_once('.').unwrap().1.len() == 2, "{o:?}");
            bought.entry(&o[1]).or_default().push(at);
        }

        let events = read(&dir, "events.csv", "event_id,member_id,kind,at,attrs");
        let mut coupons = HashSet::new();
        for e in &events {
            let at = instant(&e[3]);
            assert!(at >= joined[&e[1]], "event before joining: {e:?}");
            let attrs: serde_json::Value = serde_json::from_str(&e[4]).unwrap_or_default();
            let coupon = (e[1].to_string(), attrs["coupon_id"].to_string());
            match &e[2] {
                "coupon_issued" => assert!(coupons.insert(coupon)),
                "coupon_redeemed" => assert!(coupons.contains(&coupon), "{e:?}"),
                "group_buy_joined" => {
                    let referrer = attrs["referrer"].as_str().unwrap();
                    assert!(referrer != &e[1] && bought[referrer].iter().any(|&t| t < at), "{e:?}");
                    assert!(product.contains_key(attrs["sku"].as_str().unwrap()), "{e:?}");
                }
                "mini_program_visit" => assert!(attrs["page"].is_string(), "{e:?}"),
                kind => assert!(kind == "wecom_deleted" && e[4].is_empty(), "{e:?}"),
            }
        }
        let rows = [members.len(), orders.len(), events.len(), products.len()].map(|n| n as u64);
        assert_eq!([summary.members, summary.orders, summary.events, summary.products], rows);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
