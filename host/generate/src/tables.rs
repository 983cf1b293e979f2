//! The lists the generator draws from: categories with their price bands and seasons, styles,
//! the life-cycle mix, names, time zones, mini-program pages, opening hours and Chinese New Year.
//!
//! Kept apart from the code that draws from them, and left unformatted (`#[rustfmt::skip]` on
//! the module in `lib.rs`) so that they read as tables. Their numbers are the ones
//! `docs/simulation.md` gives; a change here changes `sample-data/` and belongs in that table.

use crate::members::Kind;

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
