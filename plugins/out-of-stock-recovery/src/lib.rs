//! Out-of-stock recovery (缺货挽回), triggered at once: a member asked in a
//! store for a size it did not have (an `out_of_stock_request` event with
//! attributes `sku`, `size` and `store_id`, the store where they asked; the
//! host ignores one without any of them), and the member's own guide gets a
//! staff task to send them the online shop's link for that product in that
//! size. A member the store marked `price_sensitive: true` also gets a
//! coupon through the guide. The guide is credited with the sale that
//! follows (`canvas results`, "recovered by guides").
//!
//! The link is the config's `shop_link` with `{sku}`, `{size}` and
//! `{store}` put in, each percent-encoded, so that whatever a store's till
//! sent makes a link that opens the page rather than another one.

use canvas_sdk::*;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The online shop's page for a product in a size; `{sku}` required,
    /// `{size}` and `{store}` optional.
    pub shop_link: String,
    pub template: String,
    /// What the guide hands over to a price-sensitive member.
    pub coupon: BenefitSpec,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shop_link: "https://shop.example.com/p/{sku}?size={size}".into(),
            template: "out_of_stock_recovery".into(),
            coupon: BenefitSpec::coupon(20.0),
        }
    }
}

pub const STEP: &str = "recovery";
pub const REQUEST: &str = "out_of_stock_request";
pub const SKU: &str = "sku";
pub const SIZE: &str = "size";
pub const STORE_ID: &str = "store_id";
pub const PRICE_SENSITIVE: &str = "price_sensitive";
/// The placeholders `shop_link` may hold, and the variable each fills from.
const PLACEHOLDERS: [&str; 3] = ["sku", "size", "store"];
/// The longest `shop_link`: with three attributes of at most
/// [`MAX_ATTR_BYTES`], each percent-encoded (3 bytes a byte), the link
/// stays within the host's 2,048 bytes for a variable.
pub const MAX_LINK_BYTES: usize = 1_024;
/// The longest sku, size or store id put in a task: the host's limit on a
/// name (a sku is one). A request with a longer one is a till's error, and
/// is left alone rather than failing the call; so is a blank one, or one
/// with control characters.
pub const MAX_ATTR_BYTES: usize = 64;
/// Unreserved characters in a URL (RFC 3986) stay as they are.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub struct OutOfStockRecovery;

impl Strategy for OutOfStockRecovery {
    const ID: &'static str = "out-of-stock-recovery";
    const NAME: &'static str = "Out-of-stock recovery";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "A member asked a store for a size it lacked: their guide sends the online shop's link, with a coupon for the price-sensitive.";
    const SCHEDULE: &'static str = ONLY_ON_TRIGGERS;
    type Config = Config;

    fn check(c: &Config) -> Result<(), String> {
        check_link(&c.shop_link)?;
        check::template("template", &c.template)?;
        c.coupon.check("coupon")
    }

    fn audience(_: &Config) -> Audience {
        Audience::nobody().on(on_event(REQUEST).requires([SKU, SIZE, STORE_ID]))
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let c = &run.config;
        let Some(request) = &run.trigger else { return vec![] };
        let attr = |key| {
            let usable =
                |v: &String| !v.trim().is_empty() && v.len() <= MAX_ATTR_BYTES && !v.chars().any(char::is_control);
            request.attr(key).filter(usable)
        };
        let (Some(sku), Some(size), Some(store)) = (attr(SKU), attr(SIZE), attr(STORE_ID)) else {
            return vec![];
        };
        let link = fill_link(&c.shop_link, &[("sku", &sku), ("size", &size), ("store", &store)]);
        let coupon = (request.attr(PRICE_SENSITIVE).as_deref() == Some("true")).then(|| c.coupon.benefit());
        let task = Touch::staff_task(member, STEP, &c.template, coupon);
        vec![task.var(SKU, sku).var(SIZE, size).var("store", store).var("link", link)]
    }
}

/// `shop_link` is an http(s) address of printable text without spaces, at
/// most [`MAX_LINK_BYTES`], whose placeholders are known and include `{sku}`.
fn check_link(link: &str) -> Result<(), String> {
    const KEY: &str = "shop_link";
    check::name(KEY, link, MAX_LINK_BYTES)?;
    if !(link.starts_with("https://") || link.starts_with("http://")) {
        return Err(format!("{KEY}: must start with https:// or http:// (is {link:?})"));
    }
    if link.chars().any(char::is_whitespace) {
        return Err(format!("{KEY}: must not hold spaces (is {link:?})"));
    }
    let mut rest = link;
    let mut has_sku = false;
    while let Some(open) = rest.find(['{', '}']) {
        let after = &rest[open + 1..];
        let close = after.find('}').filter(|_| rest.as_bytes()[open] == b'{');
        let Some(name) = close.map(|close| &after[..close]) else {
            return Err(format!(
                "{KEY}: a lone brace at byte {}; placeholders are {{sku}}, {{size}}, {{store}}",
                link.len() - rest.len() + open
            ));
        };
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "{KEY}: unknown placeholder {{{name}}}; placeholders are {{sku}}, {{size}}, {{store}}"
            ));
        }
        has_sku |= name == "sku";
        rest = &after[name.len() + 1..];
    }
    if !has_sku {
        return Err(format!("{KEY}: must hold {{sku}}, where the product goes (is {link:?})"));
    }
    Ok(())
}

/// The link with each placeholder replaced by its value, percent-encoded.
fn fill_link(link: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(link.to_string(), |link, (name, value)| {
        link.replace(&format!("{{{name}}}"), &utf8_percent_encode(value, COMPONENT).to_string())
    })
}

register_strategy!(OutOfStockRecovery);

#[cfg(test)]
mod tests;
