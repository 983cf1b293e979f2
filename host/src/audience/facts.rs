//! What a plugin is given: each selected member's profile, orders summed up
//! per window and category, the events of the kinds asked for and the
//! strategy's earlier decisions, all as of the run instant; and the products
//! launched within the audience's look-back.

use rustc_hash::FxHashMap;

use super::conditions::spend;
use super::{RunClock, MILLIS_PER_HOUR};
use crate::decision_log::StrategyLog;
use crate::member_base::{ChannelState, Friendship, MemberBase, OrderRow};
use crate::runtime::api;

/// Everything the plugin is given about one member, as of the run.
pub fn member_facts(
    base: &MemberBase,
    log: &StrategyLog,
    m: u32,
    audience: &api::Audience,
    clock: RunClock,
) -> api::Member {
    let row = base.member(m);
    let member = &row.member;
    let channels = base.channel_state(m, clock.at);
    // The current friendship, as of the run: none for a member who never
    // added the brand, or deleted it and has not added it again.
    let friend_since = match channels.friendship {
        Friendship::Since(at) => Some(at),
        _ => None,
    };
    let profile = api::Profile {
        id: member.id.clone(),
        name: member.name.clone(),
        level: member.level,
        birthday: member.birthday.map(api::Date::from),
        joined_at: member.joined_at,
        joined_day: row.joined_day,
        wecom_added_at: friend_since,
        wecom_added_day: friend_since.map(|at| base.calendar.day_of(at)),
        store_id: member.store_id.clone(),
        guide_id: member.guide_id.clone(),
        timezone: member.tz.clone(),
    };
    // Only the look-back window, and only when some kind is asked for: the
    // events are the largest part of a member's row, and a strategy asks for
    // a few kinds over days, not for a member's whole history.
    let events = if audience.event_kinds.is_empty() {
        Vec::new()
    } else {
        let since = clock.at - audience.event_lookback_hours as i64 * MILLIS_PER_HOUR;
        base.events_as_of(m, clock.at)
            .since(since)
            .iter()
            .filter(|e| audience.event_kinds.iter().any(|k| k == e.kind))
            .map(|e| api::Event {
                id: e.id.to_string(),
                kind: e.kind.to_string(),
                at: e.at,
                day: e.day,
                attrs: e.attrs.to_string(),
            })
            .collect()
    };
    let history = log.of(m).iter().filter(|d| d.run_at < clock.at).map(api::PastDecision::from).collect();
    api::Member {
        profile,
        orders: order_facts(base, base.orders_as_of(m, clock.at), &audience.order_windows, clock),
        events,
        history,
        reach: reach(base, channels),
    }
}

/// How the member can be reached, as WIT 0.3.0 tells a plugin.
fn reach(base: &MemberBase, state: ChannelState) -> api::Reach {
    let moment = |at| api::Moment { at, day: base.calendar.day_of(at) };
    api::Reach {
        wecom: match state.friendship {
            Friendship::Since(at) => api::WecomFriendship::Friend(moment(at)),
            Friendship::Deleted(at) => api::WecomFriendship::Deleted(moment(at)),
            Friendship::Never => api::WecomFriendship::Never,
        },
        unsubscribed_everywhere: state.unsubscribed_everywhere.map(moment),
        channels: state
            .channels
            .into_iter()
            .map(|(channel, consents, at)| api::ChannelConsent { channel, consents, since: moment(at) })
            .collect(),
        do_not_contact: state.do_not_contact.map(moment),
    }
}

fn order_facts(base: &MemberBase, orders: &[OrderRow], windows: &[u32], clock: RunClock) -> api::OrderFacts {
    let mut by_category: FxHashMap<u32, api::CategoryStats> = FxHashMap::default();
    for o in orders {
        let stats = by_category.entry(o.category).or_insert_with(|| api::CategoryStats {
            category: base.category_name(o.category).to_string(),
            orders: 0,
            spend: 0,
            last_day: o.day,
        });
        stats.orders = stats.orders.saturating_add(1);
        stats.spend = stats.spend.saturating_add(o.amount);
        stats.last_day = stats.last_day.max(o.day);
    }
    let mut categories: Vec<api::CategoryStats> = by_category.into_values().collect();
    categories
        .sort_by(|a, b| (b.orders, b.last_day).cmp(&(a.orders, a.last_day)).then_with(|| a.category.cmp(&b.category)));
    let windows = windows
        .iter()
        .map(|&days| {
            let (first, _) = clock.window(days);
            let inside = orders.iter().rev().take_while(|o| o.day >= first);
            let (count, spend) =
                inside.fold((0u32, 0i64), |(n, s), o| (n.saturating_add(1), s.saturating_add(o.amount)));
            api::WindowStats { days, orders: count, spend }
        })
        .collect();
    api::OrderFacts {
        first_order_at: orders.first().map(|o| o.at),
        first_order_day: orders.first().map(|o| o.day),
        last_order_at: orders.last().map(|o| o.at),
        last_order_day: orders.last().map(|o| o.day),
        orders: u32::try_from(orders.len()).unwrap_or(u32::MAX),
        spend: spend(orders.iter()),
        windows,
        categories,
    }
}

/// What a plugin is told of a run at `clock` with `config`: the instant, the
/// day, the launches its audience asks for, and the event that triggered a
/// triggered call.
pub fn run_context(
    base: &MemberBase,
    config: &str,
    audience: &api::Audience,
    clock: RunClock,
    trigger: Option<api::Event>,
) -> api::RunContext {
    api::RunContext {
        run_at: clock.at,
        today: clock.today,
        date: crate::calendar::date_of_day(clock.today).into(),
        timezone: base.calendar.tz().name().to_string(),
        config: config.to_string(),
        launches: launches(base, audience, clock),
        trigger,
    }
}

/// The products launched within the audience's look-back, newest first.
pub fn launches(base: &MemberBase, audience: &api::Audience, clock: RunClock) -> Vec<api::Product> {
    if audience.launch_lookback_days == 0 {
        return Vec::new();
    }
    let (first, _) = clock.window(audience.launch_lookback_days);
    base.launches(first, clock.at)
        .map(|p| api::Product {
            sku: p.product.sku.clone(),
            name: p.product.name.clone(),
            category: p.product.category.clone(),
            price: p.product.price,
            launched_at: p.product.launched_at,
            launched_day: p.launched_day,
            tags: p.product.tags.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::BrandCalendar;
    use crate::model::{self, bare_member, DataSet, Millis};

    const DAY: Millis = 86_400_000;

    /// Amounts are bounded at import; even so, no orders can make a
    /// member's spend wrap around: two that together pass `i64::MAX` give
    /// the largest spend, not a negative one (the facts once said `-2`).
    #[test]
    fn a_members_spend_saturates_instead_of_wrapping() {
        let huge = i64::MAX / 2 + 1;
        let order = |id: &str, at: Millis| model::Order {
            id: id.into(),
            member_id: "A".into(),
            placed_at: at,
            amount: huge,
            channel: model::OrderChannel::Store,
            category: "tops".into(),
            sku: "T".into(),
        };
        let data = DataSet {
            members: vec![bare_member("A")],
            orders: vec![order("1", DAY), order("2", 2 * DAY)],
            ..Default::default()
        };
        let base = MemberBase::build(BrandCalendar::default(), data);
        let clock = RunClock::new(&base.calendar, 3 * DAY);
        let facts = order_facts(&base, base.orders_as_of(0, clock.at), &[30], clock);
        assert_eq!((facts.orders, facts.spend), (2, i64::MAX));
        assert_eq!((facts.windows[0].orders, facts.windows[0].spend), (2, i64::MAX));
        assert_eq!((facts.categories[0].orders, facts.categories[0].spend), (2, i64::MAX));
        assert_eq!(spend(base.orders_as_of(0, clock.at).iter()), i64::MAX, "as `spend-within` sees it");
    }
}
