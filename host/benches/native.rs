//! The seed strategies compiled natively into the benchmark, for the plugin
//! boundary's cost: the host's member facts become the SDK's types (a plain
//! Rust-to-Rust copy, the native counterpart of lowering them into wasm) and
//! each strategy's `decide` runs as ordinary Rust.

use canvas::runtime::api;
use canvas_sdk as sdk;
use canvas_sdk::Strategy;

/// Decides one batch natively, as the plugin would; returns the number of touches.
pub type NativeDecide = fn(&api::RunContext, &[api::Member]) -> usize;

/// The native twin of a strategy id, if it is one of the Rust seed strategies.
pub fn native(id: &str) -> Option<NativeDecide> {
    Some(match id {
        "birthday-tiered" => decide::<birthday_tiered::BirthdayTiered>,
        "category-recommendation" => decide::<category_recommendation::CategoryRecommendation>,
        "coupon-reminder" => decide::<coupon_reminder::CouponReminder>,
        "dormant-recall" => decide::<dormant_recall::DormantRecall>,
        "first-purchase-nudge" => decide::<first_purchase_nudge::FirstPurchaseNudge>,
        "group-buy-referral" => decide::<group_buy_referral::GroupBuyReferral>,
        "second-purchase-nudge" => decide::<second_purchase_nudge::SecondPurchaseNudge>,
        _ => return None,
    })
}

fn decide<S: Strategy>(context: &api::RunContext, members: &[api::Member]) -> usize {
    let members: Vec<sdk::Member> = members.iter().map(member).collect();
    sdk::export::decide::<S>(run_context(context), members).map(|touches| touches.len()).unwrap_or(0)
}

fn date(d: &api::Date) -> sdk::Date {
    sdk::Date { year: d.year, month: d.month, day: d.day }
}

fn benefit(b: &api::Benefit) -> sdk::Benefit {
    let kind = match b.kind {
        api::BenefitKind::Coupon => sdk::BenefitKind::Coupon,
        api::BenefitKind::Gift => sdk::BenefitKind::Gift,
        api::BenefitKind::Lottery => sdk::BenefitKind::Lottery,
        api::BenefitKind::Points => sdk::BenefitKind::Points,
        api::BenefitKind::EarlyAccess => sdk::BenefitKind::EarlyAccess,
    };
    sdk::Benefit { kind, value: b.value, gift: b.gift.clone() }
}

fn run_context(c: &api::RunContext) -> sdk::RunContext {
    sdk::RunContext {
        run_at: c.run_at,
        today: c.today,
        date: date(&c.date),
        timezone: c.timezone.clone(),
        config: c.config.clone(),
        launches: c
            .launches
            .iter()
            .map(|p| sdk::Product {
                sku: p.sku.clone(),
                name: p.name.clone(),
                category: p.category.clone(),
                price: p.price,
                launched_at: p.launched_at,
                launched_day: p.launched_day,
                tags: p.tags.clone(),
            })
            .collect(),
        trigger: c.trigger.as_ref().map(|e| sdk::Event {
            id: e.id.clone(),
            kind: e.kind.clone(),
            at: e.at,
            day: e.day,
            attrs: e.attrs.clone(),
        }),
    }
}

fn member(m: &api::Member) -> sdk::Member {
    let p = &m.profile;
    let o = &m.orders;
    sdk::Member {
        profile: sdk::Profile {
            id: p.id.clone(),
            name: p.name.clone(),
            level: p.level,
            birthday: p.birthday.as_ref().map(date),
            joined_at: p.joined_at,
            joined_day: p.joined_day,
            wecom_added_at: p.wecom_added_at,
            wecom_added_day: p.wecom_added_day,
            store_id: p.store_id.clone(),
            guide_id: p.guide_id.clone(),
            timezone: p.timezone.clone(),
        },
        orders: sdk::OrderFacts {
            first_order_at: o.first_order_at,
            first_order_day: o.first_order_day,
            last_order_at: o.last_order_at,
            last_order_day: o.last_order_day,
            orders: o.orders,
            spend: o.spend,
            windows: o
                .windows
                .iter()
                .map(|w| sdk::WindowStats { days: w.days, orders: w.orders, spend: w.spend })
                .collect(),
            categories: o
                .categories
                .iter()
                .map(|c| sdk::CategoryStats {
                    category: c.category.clone(),
                    orders: c.orders,
                    spend: c.spend,
                    last_day: c.last_day,
                })
                .collect(),
        },
        events: m
            .events
            .iter()
            .map(|e| sdk::Event {
                id: e.id.clone(),
                kind: e.kind.clone(),
                at: e.at,
                day: e.day,
                attrs: e.attrs.clone(),
            })
            .collect(),
        history: m
            .history
            .iter()
            .map(|d| sdk::PastDecision {
                step: d.step.clone(),
                kind: match d.kind {
                    api::ActionKind::Message => sdk::ActionKind::Message,
                    api::ActionKind::Coupon => sdk::ActionKind::Coupon,
                    api::ActionKind::StaffTask => sdk::ActionKind::StaffTask,
                    api::ActionKind::GroupBuyInvite => sdk::ActionKind::GroupBuyInvite,
                },
                status: match d.status {
                    api::DecisionStatus::Dispatched => sdk::DecisionStatus::Dispatched,
                    api::DecisionStatus::Suppressed => sdk::DecisionStatus::Suppressed,
                    api::DecisionStatus::Holdout => sdk::DecisionStatus::Holdout,
                    api::DecisionStatus::Deferred => sdk::DecisionStatus::Deferred,
                    api::DecisionStatus::Failed => sdk::DecisionStatus::Failed,
                },
                run_at: d.run_at,
                day: d.day,
                channel: d.channel.clone(),
                template: d.template.clone(),
                variables: d.variables.clone(),
                benefit: d.benefit.as_ref().map(benefit),
            })
            .collect(),
        reach: reach(&m.reach),
    }
}

fn reach(r: &api::Reach) -> sdk::Reach {
    let moment = |m: &api::Moment| sdk::Moment { at: m.at, day: m.day };
    sdk::Reach {
        wecom: match &r.wecom {
            api::WecomFriendship::Friend(since) => sdk::WecomFriendship::Friend(moment(since)),
            api::WecomFriendship::Deleted(since) => sdk::WecomFriendship::Deleted(moment(since)),
            api::WecomFriendship::Never => sdk::WecomFriendship::Never,
        },
        unsubscribed_everywhere: r.unsubscribed_everywhere.as_ref().map(moment),
        channels: r
            .channels
            .iter()
            .map(|c| sdk::ChannelConsent { channel: c.channel.clone(), consents: c.consents, since: moment(&c.since) })
            .collect(),
        do_not_contact: r.do_not_contact.as_ref().map(moment),
    }
}
