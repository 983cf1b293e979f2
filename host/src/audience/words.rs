//! A plugin's declarative audience in words, for the operator console's
//! strategy cards: one sentence per clause (a member is in the audience when
//! any clause matches), in English or Chinese. Worded from the audience the
//! plugin itself declares for its effective config, so the words always say
//! what the host evaluates — never a description someone keeps by hand.

use std::fmt::Write;

use crate::model::Fen;
use crate::runtime::api::{Audience, CancelCondition, Clause, Condition, DaysAgo, DecisionStatus, Trigger};

/// The languages the console speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

/// One sentence per clause of `audience`, then one per trigger; an
/// audience with neither selects nobody, and says so.
pub fn in_words(audience: &Audience, language: Language) -> Vec<String> {
    if audience.any_of.is_empty() && audience.triggers.is_empty() {
        return vec![match language {
            Language::En => "nobody: the strategy sits this run out".to_string(),
            Language::Zh => "无人：本次不运行".to_string(),
        }];
    }
    let clauses = audience.any_of.iter().map(|clause| clause_in_words(clause, language));
    clauses.chain(audience.triggers.iter().map(|t| trigger_in_words(t, language))).collect()
}

/// "When a member's `coupon_issued` (with coupon_id) comes in: 1 h later,
/// unless a `coupon_redeemed` with the same coupon_id comes first."
fn trigger_in_words(trigger: &Trigger, language: Language) -> String {
    use Language::{En, Zh};
    let kind = &trigger.event_kind;
    let with = trigger.requires_attrs.join(", ");
    let minutes = trigger.delay_minutes;
    let delay = match (language, minutes) {
        (En, 0) => "at once".to_string(),
        (En, m) if m % 60 == 0 => format!("{} h later", m / 60),
        (En, m) => format!("{m} min later"),
        (Zh, 0) => "立即".to_string(),
        (Zh, m) if m % 60 == 0 => format!("{}小时后", m / 60),
        (Zh, m) => format!("{m}分钟后"),
    };
    let cancels: Vec<String> = trigger
        .cancel_if
        .iter()
        .map(|c| match (language, c) {
            (En, CancelCondition::Ordered) => "an order".to_string(),
            (Zh, CancelCondition::Ordered) => "下单".to_string(),
            (En, CancelCondition::Event(e)) => match &e.same_attr {
                Some(attr) => format!("a `{}` with the same {attr}", e.kind),
                None => format!("a `{}`", e.kind),
            },
            (Zh, CancelCondition::Event(e)) => match &e.same_attr {
                Some(attr) => format!("「{}」（同 {attr}）", e.kind),
                None => format!("「{}」", e.kind),
            },
        })
        .collect();
    let mut text = match (language, with.is_empty()) {
        (En, true) => format!("When a member's `{kind}` comes in: {delay}"),
        (En, false) => format!("When a member's `{kind}` (with {with}) comes in: {delay}"),
        (Zh, true) => format!("会员发生「{kind}」：{delay}"),
        (Zh, false) => format!("会员发生「{kind}」（含 {with}）：{delay}"),
    };
    if !cancels.is_empty() {
        match language {
            En => write!(text, ", unless {} comes first", cancels.join(" or ")),
            Zh => write!(text, "，除非此前已有{}", cancels.join("或")),
        }
        .expect("writing to a String");
    }
    text
}

fn clause_in_words(clause: &Clause, language: Language) -> String {
    let all: Vec<String> = clause.all_of.iter().map(|c| condition(c, language)).collect();
    let none: Vec<String> = clause.none_of.iter().map(|c| condition(c, language)).collect();
    let mut text = match (language, all.is_empty()) {
        (Language::En, true) => "every member".to_string(),
        (Language::Zh, true) => "所有会员".to_string(),
        (Language::En, false) => capitalised(&all.join(" and ")),
        (Language::Zh, false) => all.join("，且"),
    };
    if !none.is_empty() {
        match language {
            Language::En => write!(text, ", excluding: {}", none.join("; ")),
            Language::Zh => write!(text, "；排除：{}", none.join("；")),
        }
        .expect("writing to a String");
    }
    text
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A day range before the run date.
fn days(d: &DaysAgo, language: Language) -> String {
    match (language, d.min, d.max) {
        (Language::En, 0, 0) => "today".to_string(),
        (Language::En, a, b) if a == b => format!("exactly {a} days ago"),
        (Language::En, a, b) => format!("{a}–{b} days ago"),
        (Language::Zh, 0, 0) => "今天".to_string(),
        (Language::Zh, a, b) if a == b => format!("恰好{a}天前"),
        (Language::Zh, a, b) => format!("{a}–{b}天前"),
    }
}

/// Money as the report shows it: yuan, no decimals when whole.
fn money(fen: Fen) -> String {
    if fen % 100 == 0 {
        format!("¥{}", fen / 100)
    } else {
        format!("¥{}.{:02}", fen / 100, (fen % 100).abs())
    }
}

fn status(s: DecisionStatus, language: Language) -> &'static str {
    match (language, crate::model::DecisionStatus::from(s)) {
        (Language::En, status) => status.as_str(),
        (Language::Zh, crate::model::DecisionStatus::Dispatched) => "已发送",
        (Language::Zh, crate::model::DecisionStatus::Suppressed) => "被拦截",
        (Language::Zh, crate::model::DecisionStatus::Holdout) => "对照组",
        (Language::Zh, crate::model::DecisionStatus::Deferred) => "已延后",
        (Language::Zh, crate::model::DecisionStatus::Failed) => "失败",
    }
}

fn condition(c: &Condition, language: Language) -> String {
    use Language::{En, Zh};
    match (language, c) {
        (En, Condition::Joined(d)) => format!("joined {}", days(d, En)),
        (Zh, Condition::Joined(d)) => format!("{}入会", days(d, Zh)),
        (En, Condition::WecomAdded(d)) => format!("added the brand on WeCom {}", days(d, En)),
        (Zh, Condition::WecomAdded(d)) => format!("{}添加企业微信", days(d, Zh)),
        (En, Condition::FirstOrder(d)) => format!("first order {}", days(d, En)),
        (Zh, Condition::FirstOrder(d)) => format!("首单在{}", days(d, Zh)),
        (En, Condition::LastOrder(d)) => format!("last order {}", days(d, En)),
        (Zh, Condition::LastOrder(d)) => format!("最近一单在{}", days(d, Zh)),
        (En, Condition::HasOrdered) => "has ordered".to_string(),
        (Zh, Condition::HasOrdered) => "有过订单".to_string(),
        (En, Condition::OrdersWithin(o)) => {
            let orders = if o.at_least == 1 { "order" } else { "orders" };
            format!("at least {} {orders} in the last {} days", o.at_least, o.within_days)
        }
        (Zh, Condition::OrdersWithin(o)) => format!("近{}天至少{}单", o.within_days, o.at_least),
        (En, Condition::SpendWithin(s)) => {
            format!("spent at least {} in the last {} days", money(s.at_least), s.within_days)
        }
        (Zh, Condition::SpendWithin(s)) => format!("近{}天消费至少{}", s.within_days, money(s.at_least)),
        (En, Condition::LevelIn(levels)) => format!("level {}", level_list(levels, " or ")),
        (Zh, Condition::LevelIn(levels)) => format!("等级为{}", level_list(levels, "、")),
        (En, Condition::BirthdayInRunMonth) => "birthday this month".to_string(),
        (Zh, Condition::BirthdayInRunMonth) => "本月生日".to_string(),
        (En, Condition::Event(e)) => format!("a `{}` event in the last {} hours", e.kind, e.within_hours),
        (Zh, Condition::Event(e)) => format!("近{}小时内有「{}」事件", e.within_hours, e.kind),
        (En, Condition::Decided(d)) => {
            let mut text = "this strategy decided".to_string();
            if let Some(step) = &d.step {
                write!(text, " step `{step}`").expect("writing to a String");
            }
            if let Some(s) = d.status {
                write!(text, " ({})", status(s, En)).expect("writing to a String");
            }
            format!("{text} {}", days(&d.ago, En))
        }
        (Zh, Condition::Decided(d)) => {
            let mut text = format!("本策略{}已决策", days(&d.ago, Zh));
            if let Some(step) = &d.step {
                write!(text, "「{step}」").expect("writing to a String");
            }
            if let Some(s) = d.status {
                write!(text, "（{}）", status(s, Zh)).expect("writing to a String");
            }
            text
        }
        (En, Condition::BoughtLaunchedCategory(days)) => {
            format!("bought in a category with a launch in the last {days} days")
        }
        (Zh, Condition::BoughtLaunchedCategory(days)) => format!("买过近{days}天有新品上市的品类"),
        (En, Condition::UntoldLaunchInBoughtCategory(u)) => format!(
            "bought in a category with a launch in the last {} days not yet told of (step `{}`)",
            u.within_days, u.step
        ),
        (Zh, Condition::UntoldLaunchInBoughtCategory(u)) => {
            format!("买过近{}天有新品上市且尚未告知（「{}」）的品类", u.within_days, u.step)
        }
        (En, Condition::WecomFriendNow) => "a WeCom friend now".to_string(),
        (Zh, Condition::WecomFriendNow) => "当前是企业微信好友".to_string(),
    }
}

fn level_list(levels: &[u8], separator: &str) -> String {
    levels.iter().map(|l| format!("V{l}")).collect::<Vec<_>>().join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::api::{EarlierDecision, OrderCount, SpendAmount};

    fn audience(any_of: Vec<Clause>) -> Audience {
        Audience {
            any_of,
            order_windows: vec![],
            event_kinds: vec![],
            event_lookback_hours: 0,
            launch_lookback_days: 0,
            triggers: vec![],
        }
    }

    #[test]
    fn a_dormant_recall_audience_reads_as_one_sentence_in_each_language() {
        let recall = audience(vec![Clause {
            all_of: vec![Condition::LastOrder(DaysAgo { min: 90, max: 90 })],
            none_of: vec![Condition::Decided(EarlierDecision {
                step: Some("recall".into()),
                status: None,
                ago: DaysAgo { min: 0, max: 29 },
            })],
        }]);
        assert_eq!(
            in_words(&recall, Language::En),
            ["Last order exactly 90 days ago, excluding: this strategy decided step `recall` 0–29 days ago"]
        );
        assert_eq!(in_words(&recall, Language::Zh), ["最近一单在恰好90天前；排除：本策略0–29天前已决策「recall」"]);
    }

    #[test]
    fn every_clause_is_a_sentence_and_conditions_are_joined_with_and() {
        let tiered = audience(vec![
            Clause { all_of: vec![Condition::BirthdayInRunMonth, Condition::LevelIn(vec![3, 4])], none_of: vec![] },
            Clause {
                all_of: vec![
                    Condition::OrdersWithin(OrderCount { within_days: 30, at_least: 2 }),
                    Condition::SpendWithin(SpendAmount { within_days: 30, at_least: 150_050 }),
                ],
                none_of: vec![],
            },
            Clause { all_of: vec![], none_of: vec![Condition::HasOrdered] },
        ]);
        assert_eq!(
            in_words(&tiered, Language::En),
            [
                "Birthday this month and level V3 or V4",
                "At least 2 orders in the last 30 days and spent at least ¥1500.50 in the last 30 days",
                "every member, excluding: has ordered",
            ]
        );
        assert_eq!(
            in_words(&tiered, Language::Zh),
            ["本月生日，且等级为V3、V4", "近30天至少2单，且近30天消费至少¥1500.50", "所有会员；排除：有过订单"]
        );
    }

    #[test]
    fn one_order_is_singular() {
        let once = audience(vec![Clause {
            all_of: vec![Condition::OrdersWithin(OrderCount { within_days: 180, at_least: 1 })],
            none_of: vec![],
        }]);
        assert_eq!(in_words(&once, Language::En), ["At least 1 order in the last 180 days"]);
    }

    #[test]
    fn a_trigger_reads_as_when_what_and_unless() {
        let reminder = Audience {
            triggers: vec![Trigger {
                event_kind: "coupon_issued".into(),
                requires_attrs: vec!["coupon_id".into()],
                delay_minutes: 60,
                cancel_if: vec![
                    CancelCondition::Event(crate::runtime::api::LaterEvent {
                        kind: "coupon_redeemed".into(),
                        same_attr: Some("coupon_id".into()),
                    }),
                    CancelCondition::Ordered,
                ],
            }],
            ..audience(vec![])
        };
        assert_eq!(
            in_words(&reminder, Language::En),
            ["When a member's `coupon_issued` (with coupon_id) comes in: 1 h later, unless a `coupon_redeemed` with the same coupon_id or an order comes first"]
        );
        assert_eq!(
            in_words(&reminder, Language::Zh),
            ["会员发生「coupon_issued」（含 coupon_id）：1小时后，除非此前已有「coupon_redeemed」（同 coupon_id）或下单"]
        );
    }

    #[test]
    fn an_audience_with_no_clause_says_it_selects_nobody() {
        assert_eq!(in_words(&audience(vec![]), Language::En), ["nobody: the strategy sits this run out"]);
        assert_eq!(in_words(&audience(vec![]), Language::Zh), ["无人：本次不运行"]);
    }

    #[test]
    fn today_and_a_range_of_days_are_worded_apart_from_an_exact_day() {
        let joined = |min, max| {
            audience(vec![Clause { all_of: vec![Condition::Joined(DaysAgo { min, max })], none_of: vec![] }])
        };
        assert_eq!(in_words(&joined(0, 0), Language::En), ["Joined today"]);
        assert_eq!(in_words(&joined(7, 7), Language::En), ["Joined exactly 7 days ago"]);
        assert_eq!(in_words(&joined(1, 30), Language::Zh), ["1–30天前入会"]);
    }
}
