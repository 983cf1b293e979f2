//! Browse abandonment (浏览未购), triggered: `wait_hours` after a
//! `product_view` with a `sku` — unless the member ordered anything
//! meanwhile, which calls it off in the host — the member gets one message
//! about that product. A current WeCom friend who never bought gets the
//! first-order variant instead: the same product with a first-order coupon.
//!
//! Once per product per `repeat_after_days`: a view of a product this
//! strategy already had its turn on for the member within that many days
//! (a decision at either step carrying the same `sku` that was sent, is on
//! its way, or held the member back as a control) reminds nobody. A
//! suppressed or failed decision never reached the member, so a later view
//! may try again. It never runs on a schedule.

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Hours from the view to the message; an order in between calls it off.
    pub wait_hours: u32,
    /// Days before the same product may be brought up to the member again.
    pub repeat_after_days: u32,
    pub channel: String,
    pub template: String,
    /// For current WeCom friends who never bought.
    pub first_order: FirstOrder,
}

/// The first-order variant: a coupon with the product.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirstOrder {
    pub coupon: BenefitSpec,
    pub channel: String,
    pub template: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            wait_hours: 24,
            repeat_after_days: 30,
            channel: "wecom".into(),
            template: "browse_abandon".into(),
            first_order: FirstOrder::default(),
        }
    }
}

impl Default for FirstOrder {
    fn default() -> Self {
        FirstOrder {
            coupon: BenefitSpec::coupon(20.0),
            channel: "wecom".into(),
            template: "browse_abandon_first_order".into(),
        }
    }
}

/// The step of the product message.
pub const STEP: &str = "browse";
/// The step of the first-order variant.
pub const FIRST_ORDER_STEP: &str = "browse_first_order";
pub const PRODUCT_VIEW: &str = "product_view";
pub const SKU: &str = "sku";
/// Attributes of the view passed on as variables when the event has them.
pub const PASSED_ON: [&str; 2] = ["name", "url"];
/// The longest sku: the host's limit on a name. A view with a longer one (or
/// a blank one, or control characters) is a sender's error and reminds
/// nobody, rather than failing the call with a touch the host refuses.
pub const MAX_SKU_BYTES: usize = 64;
/// The longest name or url passed on; a longer one is left out, not the touch.
pub const MAX_PASSED_ON_BYTES: usize = 512;

pub struct BrowseAbandon;

impl Strategy for BrowseAbandon {
    const ID: &'static str = "browse-abandon";
    const NAME: &'static str = "Browse abandonment";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "A day after a member viewed a product and did not order, one message about it; a first-order coupon for WeCom friends who never bought.";
    const SCHEDULE: &'static str = ONLY_ON_TRIGGERS;
    type Config = Config;

    /// A wait of 0 hours would message a member who is still on the product
    /// page; a repeat window of 0 days would bring the same product up on
    /// every view.
    fn check(c: &Config) -> Result<(), String> {
        check::at_least("wait_hours", c.wait_hours, 1)?;
        check::at_least("repeat_after_days", c.repeat_after_days, 1)?;
        check::channel("channel", &c.channel)?;
        check::template("template", &c.template)?;
        c.first_order.coupon.check("first_order.coupon")?;
        check::channel("first_order.channel", &c.first_order.channel)?;
        check::template("first_order.template", &c.first_order.template)
    }

    fn audience(c: &Config) -> Audience {
        let view = on_event(PRODUCT_VIEW).requires([SKU]).after_hours(c.wait_hours).unless_ordered();
        Audience::nobody().on(view)
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let c = &run.config;
        let Some(view) = &run.trigger else { return vec![] };
        let Some(sku) = view.attr(SKU).filter(|sku| printable(sku, MAX_SKU_BYTES)) else { return vec![] };
        if had_turn_on(run, member, &sku) {
            return vec![];
        }
        let touch = if is_friend_who_never_bought(member) {
            let f = &c.first_order;
            Touch::coupon(member, FIRST_ORDER_STEP, &f.channel, &f.template, f.coupon.benefit())
        } else {
            Touch::message(member, STEP, &c.channel, &c.template)
        };
        let touch = touch.var(SKU, &sku);
        let passed_on = PASSED_ON
            .iter()
            .filter_map(|key| view.attr(key).filter(|v| printable(v, MAX_PASSED_ON_BYTES)).map(|value| (*key, value)));
        vec![passed_on.fold(touch, |touch, (key, value)| touch.var(key, value))]
    }
}

/// Whether the strategy had its turn on `sku` for the member within the last
/// `repeat_after_days` days, at either step.
fn had_turn_on(run: &Run<Config>, member: &Member, sku: &str) -> bool {
    let recent = |d: &&PastDecision| run.is_within(d.day, run.config.repeat_after_days);
    [STEP, FIRST_ORDER_STEP]
        .iter()
        .flat_map(|step| member.decisions_at(step))
        .filter(recent)
        .any(|d| d.had_turn() && d.var(SKU) == Some(sku))
}

/// Text the host passes on in a variable: not blank, at most `max` bytes, no control characters.
fn printable(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.len() <= max && !text.chars().any(char::is_control)
}

/// A current WeCom friend (a deleted friendship does not count) with no order.
fn is_friend_who_never_bought(member: &Member) -> bool {
    member.wecom_friend_since().is_some() && member.orders.orders == 0
}

register_strategy!(BrowseAbandon);

#[cfg(test)]
mod tests;
