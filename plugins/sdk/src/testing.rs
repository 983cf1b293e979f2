//! Plain-Rust fixtures for unit-testing a strategy natively (no wasm build):
//!
//! ```ignore
//! use canvas_sdk::testing::*;
//! let run = run_on(2026, 3, 1, Config::default());
//! let m = member("m1").level(3).ordered(day(2025, 12, 1), 299.0, "dress").build(&run, &[]);
//! assert_eq!(MyStrategy::decide(&run, &m).len(), 1);
//! ```
//!
//! Instants are placed at 10:00 in Asia/Shanghai (02:00 UTC) of their day.

use crate::calendar::{date_of, day_of};
use crate::{
    ActionKind, Benefit, CategoryStats, ChannelConsent, Date, Day, DecisionStatus, Event, Instant, Member, Moment,
    Money, OrderFacts, PastDecision, Product, Profile, Reach, Run, WecomFriendship, WindowStats,
};

const MILLIS_PER_DAY: i64 = 86_400_000;
const TEN_O_CLOCK_IN_SHANGHAI: i64 = 2 * 3_600_000;

/// The day number of a date.
pub fn day(year: i32, month: u8, day: u8) -> Day {
    day_of(&Date { year, month, day })
}

/// 10:00 in Shanghai on `day`.
pub fn instant_on(day: Day) -> Instant {
    day as i64 * MILLIS_PER_DAY + TEN_O_CLOCK_IN_SHANGHAI
}

/// A run at 10:00 on the given date with `config`.
pub fn run_on<C>(year: i32, month: u8, date: u8, config: C) -> Run<C> {
    let today = day(year, month, date);
    Run {
        run_at: instant_on(today),
        today,
        date: date_of(today),
        timezone: "Asia/Shanghai".to_string(),
        config,
        launches: Vec::new(),
        trigger: None,
    }
}

/// A triggered call: the run at the event's instant plus `delay_minutes`,
/// told of the event (kind, instant, attributes as a JSON object).
pub fn triggered_by<C>(config: C, kind: &str, at: Instant, attrs: &str, delay_minutes: u32) -> Run<C> {
    let run_at = at + i64::from(delay_minutes) * 60_000;
    let today = local_day(run_at);
    let event =
        Event { id: format!("{kind}-{at}"), kind: kind.to_string(), at, day: local_day(at), attrs: attrs.to_string() };
    Run {
        run_at,
        today,
        date: date_of(today),
        timezone: "Asia/Shanghai".to_string(),
        config,
        launches: Vec::new(),
        trigger: Some(event),
    }
}

/// The Shanghai day (UTC+8, no daylight saving) of an instant.
fn local_day(at: Instant) -> Day {
    (at + 8 * 3_600_000).div_euclid(MILLIS_PER_DAY) as Day
}

/// A product launched on `day`.
pub fn product(sku: &str, category: &str, launched: Day, tags: &[&str]) -> Product {
    Product {
        sku: sku.to_string(),
        name: format!("{category} {sku}"),
        category: category.to_string(),
        price: 29_900,
        launched_at: instant_on(launched),
        launched_day: launched,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

struct TestOrder {
    day: Day,
    amount: Money,
    category: String,
}

/// Builds a [`Member`] the way the host would hand it to a plugin.
pub struct MemberBuilder {
    profile: Profile,
    orders: Vec<TestOrder>,
    events: Vec<Event>,
    history: Vec<PastDecision>,
    reach: Reach,
}

/// 10:00 in Shanghai on `day`, as a moment.
fn moment_on(day: Day) -> Moment {
    Moment { at: instant_on(day), day }
}

/// A level-1 member who joined on 1 January 2024 and has done nothing since.
pub fn member(id: &str) -> MemberBuilder {
    let joined = day(2024, 1, 1);
    MemberBuilder {
        profile: Profile {
            id: id.to_string(),
            name: format!("Member {id}"),
            level: 1,
            birthday: None,
            joined_at: instant_on(joined),
            joined_day: joined,
            wecom_added_at: None,
            wecom_added_day: None,
            store_id: "S001".to_string(),
            guide_id: "G001".to_string(),
            timezone: None,
        },
        orders: Vec::new(),
        events: Vec::new(),
        history: Vec::new(),
        reach: Reach {
            wecom: WecomFriendship::Never,
            unsubscribed_everywhere: None,
            channels: Vec::new(),
            do_not_contact: None,
        },
    }
}

impl MemberBuilder {
    /// The member's level (1–4 in the sample brand).
    pub fn level(mut self, level: u8) -> Self {
        self.profile.level = level;
        self
    }

    /// The member's birthday.
    pub fn birthday(mut self, year: i32, month: u8, day: u8) -> Self {
        self.profile.birthday = Some(Date { year, month, day });
        self
    }

    /// The day the member joined (at 10:00 in Shanghai, as the other builders).
    pub fn joined(mut self, day: Day) -> Self {
        self.profile.joined_at = instant_on(day);
        self.profile.joined_day = day;
        self
    }

    /// The day the member became a WeCom friend, or became one again (at
    /// 10:00 in Shanghai, as the other builders).
    pub fn wecom_added(mut self, day: Day) -> Self {
        self.profile.wecom_added_at = Some(instant_on(day));
        self.profile.wecom_added_day = Some(day);
        self.reach.wecom = WecomFriendship::Friend(moment_on(day));
        self
    }

    /// The day the member deleted the brand on WeCom (删粉): no longer a
    /// friend, as the host tells a plugin.
    pub fn wecom_deleted(mut self, day: Day) -> Self {
        self.profile.wecom_added_at = None;
        self.profile.wecom_added_day = None;
        self.reach.wecom = WecomFriendship::Deleted(moment_on(day));
        self
    }

    /// The member unsubscribed on `day` from `channel`, or from every channel (None).
    pub fn unsubscribed(mut self, channel: Option<&str>, day: Day) -> Self {
        match channel {
            None => {
                self.reach.unsubscribed_everywhere = Some(moment_on(day));
                self.reach.channels.clear();
            }
            Some(channel) => {
                self.reach.channels.retain(|c| c.channel != channel);
                let since = moment_on(day);
                self.reach.channels.push(ChannelConsent { channel: channel.to_string(), consents: false, since });
            }
        }
        self
    }

    /// An operator marked the member do-not-contact on `day`.
    pub fn do_not_contact(mut self, day: Day) -> Self {
        self.reach.do_not_contact = Some(moment_on(day));
        self
    }

    /// An order on `day` of `yuan` in `category`.
    pub fn ordered(mut self, day: Day, yuan: f64, category: &str) -> Self {
        let amount = (yuan * 100.0).round() as Money;
        self.orders.push(TestOrder { day, amount, category: category.to_string() });
        self
    }

    /// An event of `kind` at `at` with JSON `attrs`.
    pub fn event(mut self, kind: &str, at: Instant, attrs: &str) -> Self {
        let id = format!("{}-e{}", self.profile.id, self.events.len() + 1);
        let day = at.div_euclid(MILLIS_PER_DAY) as Day;
        self.events.push(Event { id, kind: kind.to_string(), at, day, attrs: attrs.to_string() });
        self
    }

    /// An earlier decision of the strategy under test, at 10:00 on `day`.
    pub fn decided(self, step: &str, kind: ActionKind, status: DecisionStatus, day: Day) -> Self {
        self.decided_with(step, kind, status, day, None)
    }

    /// An earlier decision that carried a benefit.
    pub fn decided_with(
        mut self,
        step: &str,
        kind: ActionKind,
        status: DecisionStatus,
        day: Day,
        benefit: Option<Benefit>,
    ) -> Self {
        self.history.push(PastDecision {
            step: step.to_string(),
            kind,
            status,
            run_at: instant_on(day),
            day,
            channel: "wecom".to_string(),
            template: step.to_string(),
            variables: Vec::new(),
            benefit,
        });
        self
    }

    /// The member as of `run`, with stats for the given order windows. Orders
    /// and events after the run date are dropped, as the host would; the
    /// reach is as set.
    pub fn build<C>(mut self, run: &Run<C>, windows: &[u32]) -> Member {
        self.orders.retain(|o| o.day <= run.today);
        self.orders.sort_by_key(|o| o.day);
        self.events.retain(|e| e.at <= run.run_at);
        self.events.sort_by_key(|e| e.at);
        self.history.sort_by_key(|d| d.run_at);
        let orders = order_facts(&self.orders, run, windows);
        Member { profile: self.profile, orders, events: self.events, history: self.history, reach: self.reach }
    }
}

fn order_facts<C>(orders: &[TestOrder], run: &Run<C>, windows: &[u32]) -> OrderFacts {
    let mut categories: Vec<CategoryStats> = Vec::new();
    for order in orders {
        match categories.iter_mut().find(|c| c.category == order.category) {
            Some(c) => {
                c.orders += 1;
                c.spend += order.amount;
                c.last_day = c.last_day.max(order.day);
            }
            None => categories.push(CategoryStats {
                category: order.category.clone(),
                orders: 1,
                spend: order.amount,
                last_day: order.day,
            }),
        }
    }
    categories
        .sort_by(|a, b| (b.orders, b.last_day).cmp(&(a.orders, a.last_day)).then_with(|| a.category.cmp(&b.category)));
    let windows = windows
        .iter()
        .map(|&days| {
            let inside = orders.iter().filter(|o| run.is_within(o.day, days));
            let (count, spend) = inside.fold((0, 0), |(n, s), o| (n + 1, s + o.amount));
            WindowStats { days, orders: count, spend }
        })
        .collect();
    OrderFacts {
        first_order_at: orders.first().map(|o| instant_on(o.day)),
        first_order_day: orders.first().map(|o| o.day),
        last_order_at: orders.last().map(|o| instant_on(o.day)),
        last_order_day: orders.last().map(|o| o.day),
        orders: orders.len() as u32,
        spend: orders.iter().map(|o| o.amount).sum(),
        windows,
        categories,
    }
}
