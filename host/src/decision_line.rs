//! A decision as one line of JSON: its line in decisions.jsonl (the
//! simulation's output, the admin API's decisions of a member) and the body
//! of the touch dispatch sends for it. One home for both, so the report and
//! the outbox say the same thing of a decision and neither imports the other.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::calendar::{date_of_day, BrandCalendar};
use crate::model::{ActionKind, Benefit, BenefitKind, Decision, DecisionStatus, Fen, GroupBuy};

pub(crate) fn yuan(fen: Fen) -> f64 {
    fen as f64 / 100.0
}

#[derive(Serialize)]
struct BenefitLine<'a> {
    kind: BenefitKind,
    /// Yuan.
    value: f64,
    gift: &'a Option<String>,
}

#[derive(Serialize)]
struct GroupBuyLine<'a> {
    sku: &'a str,
    group_size: u8,
    /// Yuan.
    price: f64,
}

/// One line of decisions.jsonl.
#[derive(Serialize)]
struct DecisionLine<'a> {
    key: &'a str,
    date: String,
    run_at: String,
    strategy: &'a str,
    plugin_version: &'a str,
    /// The build that decided it; "" for decisions stored before builds were kept.
    plugin_sha256: &'a str,
    step: &'a str,
    member_id: &'a str,
    action: ActionKind,
    channel: &'a str,
    template: &'a str,
    variables: BTreeMap<&'a str, &'a str>,
    benefit: Option<BenefitLine<'a>>,
    coupon_id: &'a Option<String>,
    guide_id: &'a Option<String>,
    group_buy: Option<GroupBuyLine<'a>>,
    status: DecisionStatus,
    reason: &'a Option<String>,
    send_at: Option<String>,
}

/// A line's field names, dates and numbers: what [`decision_json`] adds to its strings.
const LINE_FIELDS: usize = 384;

/// A decision as one line of JSON (no newline).
pub fn decision_json(calendar: &BrandCalendar, d: &Decision) -> String {
    let benefit =
        d.benefit.as_ref().map(|b: &Benefit| BenefitLine { kind: b.kind, value: yuan(b.value), gift: &b.gift });
    let group_buy = d.group_buy.as_ref().map(|g: &GroupBuy| GroupBuyLine {
        sku: &g.sku,
        group_size: g.group_size,
        price: yuan(g.price),
    });
    let line = DecisionLine {
        key: &d.key,
        date: date_of_day(d.day).to_string(),
        run_at: calendar.format(d.run_at),
        strategy: &d.strategy,
        plugin_version: &d.plugin_version,
        plugin_sha256: &d.plugin_sha256,
        step: &d.step,
        member_id: &d.member_id,
        action: d.action,
        channel: &d.channel,
        template: &d.template,
        variables: d.variables.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        benefit,
        coupon_id: &d.coupon_id,
        guide_id: &d.guide_id,
        group_buy,
        status: d.status,
        reason: &d.reason,
        send_at: d.send_at.map(|at| calendar.format(at)),
    };
    // Room for the whole line up front: grown from empty, the buffer would
    // be reallocated several times for each line, and a line is made for
    // every decision queued.
    let strings = [&d.key, &d.strategy, &d.plugin_version, &d.step, &d.member_id, &d.channel, &d.template];
    let text = d.plugin_sha256.len();
    let optional = [&d.coupon_id, &d.guide_id, &d.reason].map(|s| s.as_ref().map_or(0, String::len));
    let variables: usize = d.variables.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
    let text = text + strings.iter().map(|s| s.len()).sum::<usize>() + optional.iter().sum::<usize>() + variables;
    let mut json = Vec::with_capacity(LINE_FIELDS + text);
    serde_json::to_writer(&mut json, &line).expect("decisions serialize");
    String::from_utf8(json).expect("serde_json writes UTF-8")
}
