//! Group-buy referral (拼团裂变): customers who ordered in the last
//! `active_days` days, and were not invited (nor held out as control) in the
//! last `cooldown_days`, are
//! invited to open a group buy of a product tagged `group_buy` — the newest
//! one in the category they buy most, else the newest one. Friends who join
//! arrive as `group_buy_joined` events with `attrs.referrer`.

use std::cmp::Reverse;

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub active_days: u32,
    pub cooldown_days: u32,
    pub group_size: u8,
    /// Group price as a share of the list price (0.8 = 20% off).
    pub price_ratio: f64,
    /// How far back launched products count as the group-buy catalogue.
    pub catalogue_days: u32,
    pub channel: String,
    pub template: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            active_days: 180,
            cooldown_days: 30,
            group_size: 3,
            price_ratio: 0.8,
            catalogue_days: 365,
            channel: "wecom".into(),
            template: "group_buy_invite".into(),
        }
    }
}

pub const STEP: &str = "invite";
pub const TAG: &str = "group_buy";

pub struct GroupBuyReferral;

impl Strategy for GroupBuyReferral {
    const ID: &'static str = "group-buy-referral";
    const NAME: &'static str = "Group-buy referral";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Active customers are invited to open a group buy and bring friends, at most once per cooldown.";
    type Config = Config;

    /// A group buy needs at least two people and a price above 0 and not
    /// above the list price. A 0-day window would hold no order or no
    /// launch; a cooldown of 0 days would be taken as 1 (the window counts
    /// the run date), so it is refused rather than read as "no cooldown".
    fn check(c: &Config) -> Result<(), String> {
        check::at_least("active_days", c.active_days, 1)?;
        check::at_least("cooldown_days", c.cooldown_days, 1)?;
        check::at_least("group_size", c.group_size, 2)?;
        // Written so that NaN fails too.
        if !(c.price_ratio > 0.0 && c.price_ratio <= 1.0) {
            return Err(format!("price_ratio: must be more than 0 and at most 1 (is {})", c.price_ratio));
        }
        check::at_least("catalogue_days", c.catalogue_days, 1)?;
        check::channel("channel", &c.channel)?;
        check::template("template", &c.template)
    }

    fn audience(c: &Config) -> Audience {
        // Invited (or held out as control) recently; a suppressed invite never reached them.
        let had_turn = [DecisionStatus::Dispatched, DecisionStatus::Deferred, DecisionStatus::Holdout].map(|status| {
            let invited =
                EarlierDecision { step: Some(STEP.into()), status: Some(status), ago: within(c.cooldown_days) };
            Condition::Decided(invited)
        });
        Audience::when([Condition::OrdersWithin(OrderCount { within_days: c.active_days, at_least: 1 })])
            .except(had_turn)
            .launches(c.catalogue_days)
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        invite(run, &Catalogue::of(&run.launches), member)
    }

    /// The catalogue once a batch, not once a member: making it takes two
    /// passes over the year's launches and their tags, and it is the same
    /// for every member of the batch.
    fn decide_batch(run: &Run<Config>, members: &[Member]) -> Vec<Touch> {
        let catalogue = Catalogue::of(&run.launches);
        members.iter().flat_map(|member| invite(run, &catalogue, member)).collect()
    }
}

/// The group buys a run can offer: the newest one overall and in each category
/// (the newest; on a tie, the lowest sku).
struct Catalogue<'r> {
    newest: Option<&'r Product>,
    by_category: Vec<&'r Product>,
}

impl<'r> Catalogue<'r> {
    fn of(launches: &'r [Product]) -> Self {
        let newer = |a: &Product, b: &Product| (a.launched_at, Reverse(&a.sku)) > (b.launched_at, Reverse(&b.sku));
        let mut catalogue = Catalogue { newest: None, by_category: Vec::new() };
        for product in launches.iter().filter(|p| p.tags.iter().any(|t| t == TAG)) {
            if catalogue.newest.is_none_or(|n| newer(product, n)) {
                catalogue.newest = Some(product);
            }
            match catalogue.by_category.iter_mut().find(|n| n.category == product.category) {
                Some(n) if newer(product, n) => *n = product,
                Some(_) => {}
                None => catalogue.by_category.push(product),
            }
        }
        catalogue
    }

    /// The newest group buy in `category`, else the newest of all.
    fn for_category(&self, category: Option<&str>) -> Option<&'r Product> {
        let in_category = category.and_then(|c| self.by_category.iter().find(|p| p.category == c));
        in_category.copied().or(self.newest)
    }
}

fn invite(run: &Run<Config>, catalogue: &Catalogue<'_>, member: &Member) -> Vec<Touch> {
    let c = &run.config;
    let invited_recently = member.decisions_at(STEP).any(|d| d.had_turn() && run.is_within(d.day, c.cooldown_days));
    let active = member.orders.last_order_day.is_some_and(|day| run.is_within(day, c.active_days));
    if invited_recently || !active {
        return vec![];
    }
    let favourite = member.orders.favourite_category().map(|f| f.category.as_str());
    let Some(product) = catalogue.for_category(favourite) else {
        return vec![];
    };
    let price = (product.price as f64 * c.price_ratio).round() as Money;
    let group = GroupBuy { sku: product.sku.clone(), group_size: c.group_size, price };
    vec![Touch::group_buy_invite(member, STEP, &c.channel, &c.template, group).var("product", &product.name)]
}

register_strategy!(GroupBuyReferral);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

    fn invite(run: &Run<Config>, member: MemberBuilder) -> Option<GroupBuy> {
        let touches = GroupBuyReferral::decide(run, &member.build(run, &[]));
        touches.into_iter().find_map(|t| match t.action {
            Action::GroupBuyInvite(g) => Some(g),
            _ => None,
        })
    }

    fn run() -> Run<Config> {
        let mut run = run_on(2026, 6, 1, Config::default());
        run.launches = vec![
            product("T1", "tops", day(2026, 5, 1), &["group_buy"]),
            product("D1", "dress", day(2026, 4, 1), &["hot", "group_buy"]),
            product("D2", "dress", day(2026, 5, 20), &["hot"]),
        ];
        run
    }

    #[test]
    fn the_default_config_passes_the_check() {
        assert_eq!(GroupBuyReferral::check(&Config::default()), Ok(()));
    }

    #[test]
    fn zero_days_a_group_of_one_and_an_empty_channel_or_template_are_refused_naming_the_key() {
        let refused = |config: Config| GroupBuyReferral::check(&config).unwrap_err();
        let d = Config::default;
        assert_eq!(refused(Config { active_days: 0, ..d() }), "active_days: must be at least 1 (is 0)");
        assert_eq!(refused(Config { cooldown_days: 0, ..d() }), "cooldown_days: must be at least 1 (is 0)");
        assert_eq!(refused(Config { catalogue_days: 0, ..d() }), "catalogue_days: must be at least 1 (is 0)");
        assert_eq!(refused(Config { group_size: 1, ..d() }), "group_size: must be at least 2 (is 1)");
        assert!(refused(Config { channel: "".into(), ..d() }).starts_with("channel: must not be empty"));
        assert!(refused(Config { template: "".into(), ..d() }).starts_with("template: must not be empty"));
    }

    #[test]
    fn a_price_ratio_outside_0_to_1_is_refused_naming_the_key() {
        let refused = |ratio: f64| GroupBuyReferral::check(&Config { price_ratio: ratio, ..Config::default() });
        assert_eq!(refused(0.0), Err("price_ratio: must be more than 0 and at most 1 (is 0)".into()));
        assert_eq!(refused(-0.5), Err("price_ratio: must be more than 0 and at most 1 (is -0.5)".into()));
        assert_eq!(refused(1.5), Err("price_ratio: must be more than 0 and at most 1 (is 1.5)".into()));
        assert_eq!(refused(f64::NAN), Err("price_ratio: must be more than 0 and at most 1 (is NaN)".into()));
        assert_eq!(refused(1.0), Ok(()), "the list price is a group price");
    }

    #[test]
    fn active_customers_get_a_group_buy_in_their_favourite_category() {
        let run = run();
        let g = invite(&run, member("m").ordered(run.today - 10, 299.0, "dress")).unwrap();
        assert_eq!((g.sku.as_str(), g.group_size, g.price), ("D1", 3, 23_920));
        let shoes = invite(&run, member("m").ordered(run.today - 10, 299.0, "shoes")).unwrap();
        assert_eq!(shoes.sku, "T1", "no group buy in their category: the newest one");
    }

    #[test]
    fn of_two_group_buys_launched_together_the_lowest_sku() {
        let mut run = run();
        let launched = day(2026, 5, 25);
        run.launches.push(product("D9", "dress", launched, &["group_buy"]));
        run.launches.push(product("D3", "dress", launched, &["group_buy"]));
        let g = invite(&run, member("m").ordered(run.today - 10, 299.0, "dress")).unwrap();
        assert_eq!(g.sku, "D3");
    }

    #[test]
    fn a_batch_gets_the_touches_its_members_get_one_by_one() {
        let mut run = run();
        run.launches.push(product("S1", "shoes", day(2026, 5, 28), &["group_buy"]));
        run.launches.push(product("S0", "shoes", day(2026, 5, 28), &["group_buy"]));
        let members: Vec<Member> = [
            member("dress").ordered(run.today - 10, 299.0, "dress"),
            member("bags").ordered(run.today - 3, 99.0, "bags"),
            member("asleep").ordered(run.today - 400, 99.0, "dress"),
            member("shoes").ordered(run.today - 1, 59.0, "shoes"),
            member("tops").ordered(run.today - 20, 59.0, "tops"),
        ]
        .into_iter()
        .map(|m| m.build(&run, &[]))
        .collect();
        let one_by_one: Vec<Touch> = members.iter().flat_map(|m| GroupBuyReferral::decide(&run, m)).collect();
        let skus: Vec<_> = one_by_one
            .iter()
            .map(|t| match &t.action {
                Action::GroupBuyInvite(g) => (t.member_id.as_str(), g.sku.as_str()),
                _ => unreachable!("group buys only"),
            })
            .collect();
        assert_eq!(skus, [("dress", "D1"), ("bags", "S0"), ("shoes", "S0"), ("tops", "T1")]);
        assert_eq!(GroupBuyReferral::decide_batch(&run, &members), one_by_one);
    }

    #[test]
    fn only_customers_active_within_the_window() {
        let run = run();
        assert!(invite(&run, member("m").ordered(run.today - 179, 99.0, "tops")).is_some());
        assert!(invite(&run, member("m").ordered(run.today - 180, 99.0, "tops")).is_none());
        assert!(invite(&run, member("m")).is_none());
    }

    #[test]
    fn not_again_within_the_cooldown() {
        let run = run();
        let invited = |days_ago: i32, status| {
            member("m").ordered(run.today - 10, 99.0, "tops").decided(
                STEP,
                ActionKind::GroupBuyInvite,
                status,
                run.today - days_ago,
            )
        };
        assert!(invite(&run, invited(29, DecisionStatus::Dispatched)).is_none());
        assert!(invite(&run, invited(30, DecisionStatus::Dispatched)).is_some());
        assert!(invite(&run, invited(5, DecisionStatus::Suppressed)).is_some(), "a suppressed invite was never sent");
        assert!(invite(&run, invited(5, DecisionStatus::Holdout)).is_none(), "control members had their turn");
    }
}
