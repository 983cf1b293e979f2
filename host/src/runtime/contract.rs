//! What a plugin may ask of the host and hand back, beyond what the WIT
//! types say: the size of its audience (clauses, conditions, windows, event
//! kinds, lookbacks — each costs the host work every run), the length of
//! every name it returns, and the values of its touches. docs/plugins.md
//! lists every limit; a message names the field and the limit.

use super::api;
use super::limits::SandboxLimits;
use crate::model::MAX_AMOUNT_FEN;
use crate::printable::{clipped, printable_line};

/// Bytes in a name: a step, channel, guide id, sku, event kind, variable name.
pub const MAX_NAME_BYTES: usize = 64;
/// Bytes in a template's name or a gift's name.
pub const MAX_LABEL_BYTES: usize = 128;
/// Variables of one touch.
pub const MAX_VARIABLES: usize = 32;
/// Bytes in one variable's value.
pub const MAX_VALUE_BYTES: usize = 2_048;
/// Bytes of a manifest's name, and of its schedule.
pub const MAX_MANIFEST_NAME_BYTES: usize = 128;
/// Bytes of a manifest's description.
pub const MAX_DESCRIPTION_BYTES: usize = 4_096;
/// Bytes of a manifest's default config (JSON).
pub const MAX_DEFAULT_CONFIG_BYTES: usize = 64 * 1024;

/// What a record costs against the output cap beyond its strings: what the
/// host holds for it (a touch's fields, a clause's lists).
const RECORD_BYTES: usize = 64;
const VARIABLE_BYTES: usize = 16;

/// Bytes a batch's answer costs against the output cap: every string of
/// every touch, plus a fixed cost per touch and per variable.
pub fn touches_size(touches: &[api::Touch]) -> usize {
    touches.iter().map(touch_size).fold(0, usize::saturating_add)
}

fn touch_size(t: &api::Touch) -> usize {
    let variables: usize = t.variables.iter().map(|(k, v)| k.len() + v.len() + VARIABLE_BYTES).sum();
    let gift = |b: Option<&api::Benefit>| b.and_then(|b| b.gift.as_ref()).map_or(0, String::len);
    let action = match &t.action {
        api::Action::Message => 0,
        api::Action::Coupon(b) => gift(Some(b)),
        api::Action::StaffTask(task) => task.guide_id.len() + gift(task.benefit.as_ref()),
        api::Action::GroupBuyInvite(g) => g.sku.len(),
    };
    RECORD_BYTES + t.member_id.len() + t.step.len() + t.channel.len() + t.template.len() + variables + action
}

/// Bytes an audience costs against the output cap.
pub fn audience_size(a: &api::Audience) -> usize {
    let conditions = a.any_of.iter().flat_map(|c| c.all_of.iter().chain(&c.none_of));
    let strings: usize = conditions
        .map(|c| match c {
            api::Condition::LevelIn(levels) => levels.len(),
            api::Condition::Event(e) => e.kind.len(),
            api::Condition::Decided(d) => d.step.as_ref().map_or(0, String::len),
            api::Condition::UntoldLaunchInBoughtCategory(u) => u.step.len() + u.sku_variable.len(),
            _ => 0,
        } + RECORD_BYTES)
        .sum();
    RECORD_BYTES * (1 + a.any_of.len())
        + strings
        + 8 * a.order_windows.len()
        + a.event_kinds.iter().map(|k| k.len() + RECORD_BYTES).sum::<usize>()
}

/// Bytes a manifest costs against the output cap.
pub fn manifest_size(m: &api::Manifest) -> usize {
    [&m.id, &m.name, &m.version, &m.api_version, &m.description, &m.default_config, &m.schedule]
        .iter()
        .map(|s| s.len())
        .sum()
}

/// Refuses an audience that would make the host do unbounded work, naming
/// the limit and its setting (the message follows "plugin X asked for").
pub fn check_audience(a: &api::Audience, limits: &SandboxLimits) -> Result<(), String> {
    let over = |count: usize, what: &str, limit: u64, setting: &str| {
        if count as u64 > limit {
            Err(format!("{what}: {count}, over the limit of {limit} (sandbox.{setting})"))
        } else {
            Ok(())
        }
    };
    over(a.any_of.len(), "an audience of too many clauses", limits.audience_clauses, "audience_clauses")?;
    let conditions: usize = a.any_of.iter().map(|c| c.all_of.len() + c.none_of.len()).sum();
    over(conditions, "an audience of too many conditions", limits.audience_conditions, "audience_conditions")?;
    over(a.order_windows.len(), "too many order windows", limits.order_windows, "order_windows")?;
    over(a.event_kinds.len(), "too many event kinds", limits.event_kinds, "event_kinds")?;

    let max_days = limits.lookback_days;
    let days = |what: &str, days: u64| {
        if days > max_days {
            Err(format!("{what} reaching back {days} days, over the limit of {max_days} days (sandbox.lookback_days)"))
        } else {
            Ok(())
        }
    };
    let hours = |what: &str, hours: u32| days(what, u64::from(hours).div_ceil(24));
    let name = |what: &str, text: &str| {
        if text.len() > MAX_NAME_BYTES {
            Err(format!("{what} of {} bytes, over the limit of {MAX_NAME_BYTES}", text.len()))
        } else {
            Ok(())
        }
    };
    for &window in &a.order_windows {
        days("an order window", u64::from(window))?;
    }
    for kind in &a.event_kinds {
        name("an event kind", kind)?;
    }
    hours("events", a.event_lookback_hours)?;
    days("launches", u64::from(a.launch_lookback_days))?;
    for condition in a.any_of.iter().flat_map(|c| c.all_of.iter().chain(&c.none_of)) {
        use api::Condition as C;
        match condition {
            C::Joined(ago) | C::WecomAdded(ago) | C::FirstOrder(ago) | C::LastOrder(ago) => {
                days("a condition", u64::from(ago.max.max(ago.min)))?
            }
            C::OrdersWithin(o) => days("an order count", u64::from(o.within_days))?,
            C::SpendWithin(s) => days("a spend", u64::from(s.within_days))?,
            C::LevelIn(levels) => {
                if let Some(level) = levels.iter().find(|l| !(1..=4).contains(*l)) {
                    return Err(format!("level {level} in `level-in`; levels are 1–4"));
                }
                if levels.len() > 4 {
                    return Err(format!("`level-in` of {} levels; there are 4", levels.len()));
                }
            }
            C::Event(e) => {
                name("an event kind", &e.kind)?;
                hours("an event condition", e.within_hours)?;
            }
            C::Decided(d) => {
                name("a step", d.step.as_deref().unwrap_or(""))?;
                days("an earlier decision", u64::from(d.ago.max.max(d.ago.min)))?;
            }
            C::BoughtLaunchedCategory(within) => days("a launch condition", u64::from(*within))?,
            C::UntoldLaunchInBoughtCategory(u) => {
                name("a step", &u.step)?;
                name("a variable name", &u.sku_variable)?;
                days("a launch condition", u64::from(u.within_days))?;
            }
            C::HasOrdered | C::BirthdayInRunMonth | C::WecomFriendNow => {}
        }
    }
    Ok(())
}

/// Checks one touch's names and values; the message names the member, the
/// step, the field and the limit.
pub fn check_touch(t: &api::Touch, limits: &SandboxLimits) -> Result<(), String> {
    let refuse = |problem: String| {
        Err(format!("the touch for member `{}` at step `{}`: {problem}", shown(&t.member_id), shown(&t.step)))
    };
    if !is_step_name(&t.step) {
        return refuse(format!("`step` must be 1–{MAX_NAME_BYTES} of a-z, 0-9, _ and -"));
    }
    let named = |field: &str, text: &str, max: usize| name_problem(field, text, max, false);
    let problem = named("channel", &t.channel, MAX_NAME_BYTES)
        .or_else(|| named("template", &t.template, MAX_LABEL_BYTES))
        .or_else(|| {
            (t.variables.len() > MAX_VARIABLES)
                .then(|| format!("{} variables, over the limit of {MAX_VARIABLES}", t.variables.len()))
        })
        .or_else(|| {
            t.variables.iter().find_map(|(key, value)| {
                named("a variable's name", key, MAX_NAME_BYTES)
                    .or_else(|| name_problem(&format!("variable `{}`", shown(key)), value, MAX_VALUE_BYTES, true))
            })
        })
        .or_else(|| action_problem(&t.action, limits));
    match problem {
        Some(problem) => refuse(problem),
        None => Ok(()),
    }
}

fn action_problem(action: &api::Action, limits: &SandboxLimits) -> Option<String> {
    let benefit = |b: &api::Benefit, field: &str| {
        let max = limits.benefit_max_yuan.saturating_mul(100).min(MAX_AMOUNT_FEN as u64);
        if b.value <= 0 || b.value as u64 > max {
            return Some(format!(
                "`{field}.value` is {} fen; a benefit is worth more than 0 and at most {} yuan (sandbox.benefit_max_yuan)",
                b.value,
                max / 100
            ));
        }
        let gift = b.gift.as_deref()?;
        name_problem(&format!("{field}.gift"), gift, MAX_LABEL_BYTES, false)
    };
    match action {
        api::Action::Message => None,
        api::Action::Coupon(b) => benefit(b, "benefit"),
        api::Action::StaffTask(task) => name_problem("guide_id", &task.guide_id, MAX_NAME_BYTES, false)
            .or_else(|| task.benefit.as_ref().and_then(|b| benefit(b, "benefit"))),
        api::Action::GroupBuyInvite(g) => name_problem("group_buy.sku", &g.sku, MAX_NAME_BYTES, false)
            .or_else(|| (g.group_size < 2).then(|| format!("`group_buy.group_size` is {}; at least 2", g.group_size)))
            .or_else(|| {
                (g.price <= 0 || g.price > MAX_AMOUNT_FEN).then(|| {
                    format!(
                        "`group_buy.price` is {} fen; more than 0 and at most {} yuan",
                        g.price,
                        MAX_AMOUNT_FEN / 100
                    )
                })
            }),
    }
}

/// What is wrong with a name (or, `free_text`, a variable's value): blank
/// (names only), too long, or holding control characters (a value may hold
/// newlines and tabs).
fn name_problem(field: &str, text: &str, max: usize, free_text: bool) -> Option<String> {
    if !free_text && text.trim().is_empty() {
        return Some(format!("`{field}` is empty"));
    }
    if text.len() > max {
        return Some(format!("`{field}` is {} bytes long, over the limit of {max} bytes", text.len()));
    }
    let allowed = |c: char| free_text && (c == '\n' || c == '\t');
    text.chars()
        .any(|c| c.is_control() && !allowed(c))
        .then(|| format!("`{field}` holds control characters: `{}`", shown(text)))
}

/// A step name: 1–64 of a-z, 0-9, `_` and `-`.
pub fn is_step_name(step: &str) -> bool {
    (1..=MAX_NAME_BYTES).contains(&step.len())
        && step.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A plugin's text quoted in a message: clipped, escapes shown.
fn shown(text: &str) -> String {
    printable_line(&clipped(text, MAX_NAME_BYTES)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(action: api::Action) -> api::Touch {
        api::Touch {
            member_id: "M1".into(),
            step: "birthday".into(),
            channel: "wecom".into(),
            template: "birthday_coupon".into(),
            variables: vec![("level".into(), "3".into())],
            action,
        }
    }

    fn coupon(value: i64, gift: Option<String>) -> api::Action {
        api::Action::Coupon(api::Benefit { kind: api::BenefitKind::Coupon, value, gift })
    }

    #[test]
    fn a_touch_within_the_limits_passes() {
        assert_eq!(check_touch(&touch(coupon(3_000, Some("gift box".into()))), &SandboxLimits::default()), Ok(()));
    }

    #[test]
    fn every_field_of_a_touch_counts_against_the_output_cap() {
        let small = touches_size(&[touch(coupon(3_000, None))]);
        let big = touches_size(&[touch(coupon(3_000, Some("x".repeat(1 << 20))))]);
        assert_eq!(big - small, 1 << 20, "the gift's name counts");
        let invite = api::Action::GroupBuyInvite(api::GroupBuy { sku: "s".repeat(1000), group_size: 3, price: 1 });
        assert!(touches_size(&[touch(invite)]) > 1000, "the sku counts");
    }

    #[test]
    fn refusals_name_the_field_and_the_limit() {
        let limits = SandboxLimits::default();
        let refused = |action| check_touch(&touch(action), &limits).unwrap_err();
        let long = refused(coupon(3_000, Some("x".repeat(200))));
        assert!(long.contains("member `M1` at step `birthday`"), "{long}");
        assert!(long.contains("`benefit.gift` is 200 bytes long, over the limit of 128 bytes"), "{long}");
        assert!(refused(coupon(0, None)).contains("more than 0 and at most 10000 yuan (sandbox.benefit_max_yuan)"));
        assert!(refused(coupon(92_233_720_368_547_758, None)).contains("at most 10000 yuan"));
        let group =
            |size, price| api::Action::GroupBuyInvite(api::GroupBuy { sku: "DR-1".into(), group_size: size, price });
        assert!(refused(group(1, 100)).contains("`group_buy.group_size` is 1; at least 2"));
        assert!(refused(group(3, 0)).contains("`group_buy.price` is 0 fen"));
        let task = api::Action::StaffTask(api::StaffTask { guide_id: "G\u{1b}[2J".into(), benefit: None });
        assert!(refused(task).contains("`guide_id` holds control characters: `G\\u{1b}[2J`"));
    }

    #[test]
    fn audiences_are_bounded_by_the_sandbox_settings() {
        let limits = SandboxLimits::default();
        let clause = api::Clause { all_of: vec![], none_of: vec![] };
        let audience = |clauses: usize, windows: Vec<u32>| api::Audience {
            any_of: vec![clause.clone(); clauses],
            order_windows: windows,
            event_kinds: vec![],
            event_lookback_hours: 0,
            launch_lookback_days: 0,
            triggers: vec![],
        };
        assert_eq!(check_audience(&audience(50, vec![30, 180]), &limits), Ok(()));
        let many = check_audience(&audience(1_000_000, vec![]), &limits).unwrap_err();
        assert_eq!(many, "an audience of too many clauses: 1000000, over the limit of 128 (sandbox.audience_clauses)");
        let far = check_audience(&audience(1, vec![40_000]), &limits).unwrap_err();
        assert!(
            far.contains("reaching back 40000 days, over the limit of 36600 days (sandbox.lookback_days)"),
            "{far}"
        );
        assert!(audience_size(&audience(1_000_000, vec![])) >= 64_000_000, "empty clauses count too");
    }
}
