//! Category recommendation for high-value members (高价值人群品类推荐): members
//! with at least `min_orders` orders in the last `window_days` days hear about
//! a product launched in the last `launch_window_days` days, in a category
//! they have bought before. One launch per member per run — in the category
//! they bought most (ties: the newest launch, then the lowest sku) — and never
//! the same launch twice to one member.

use std::cmp::Reverse;

use canvas_sdk::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub min_orders: u32,
    pub window_days: u32,
    pub launch_window_days: u32,
    pub channel: String,
    pub template: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            min_orders: 2,
            window_days: 180,
            launch_window_days: 7,
            channel: "wecom".into(),
            template: "new_arrival".into(),
        }
    }
}

pub const STEP: &str = "launch";

pub struct CategoryRecommendation;

impl Strategy for CategoryRecommendation {
    const ID: &'static str = "category-recommendation";
    const NAME: &'static str = "New arrivals for high-value members";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str =
        "Frequent buyers hear about a new launch in the category they buy most, once per launch.";
    type Config = Config;

    /// A frequent buyer has at least one order in a window of at least a
    /// day; a launch window of 0 days would hold no launch.
    fn check(c: &Config) -> Result<(), String> {
        check::at_least("min_orders", c.min_orders, 1)?;
        check::at_least("window_days", c.window_days, 1)?;
        check::at_least("launch_window_days", c.launch_window_days, 1)?;
        check::channel("channel", &c.channel)?;
        check::template("template", &c.template)
    }

    fn audience(c: &Config) -> Audience {
        let frequent = OrderCount { within_days: c.window_days, at_least: c.min_orders };
        // Only members with a launch still to hear of: on a settled day of a
        // launch week that is the day's news, not every frequent buyer again.
        let untold = UntoldLaunch { within_days: c.launch_window_days, step: STEP.into(), sku_variable: "sku".into() };
        Audience::when([Condition::OrdersWithin(frequent), Condition::UntoldLaunchInBoughtCategory(untold)])
            .order_windows([c.window_days])
            .launches(c.launch_window_days)
    }

    fn decide(run: &Run<Config>, member: &Member) -> Vec<Touch> {
        let c = &run.config;
        let frequent = member.orders.window(c.window_days).is_some_and(|w| w.orders >= c.min_orders);
        if !frequent {
            return vec![];
        }
        let already_sent = |sku: &str| member.decisions_at(STEP).any(|d| d.var("sku") == Some(sku));
        let best = run
            .launches
            .iter()
            .filter(|p| run.is_within(p.launched_day, c.launch_window_days) && !already_sent(&p.sku))
            .filter_map(|p| {
                let bought = member.orders.categories.iter().find(|cat| cat.category == p.category)?;
                Some((Reverse(bought.orders), Reverse(p.launched_at), p.sku.as_str(), p))
            })
            .min_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        let Some((_, _, _, product)) = best else {
            return vec![];
        };
        vec![Touch::message(member, STEP, &c.channel, &c.template)
            .var("sku", &product.sku)
            .var("product", &product.name)
            .var("category", &product.category)]
    }
}

register_strategy!(CategoryRecommendation);

#[cfg(test)]
mod tests {
    use super::*;
    use canvas_sdk::testing::*;

    fn run_with(launches: Vec<Product>) -> Run<Config> {
        let mut run = run_on(2026, 3, 20, Config::default());
        run.launches = launches;
        run
    }

    fn pick(run: &Run<Config>, member: MemberBuilder) -> Option<String> {
        let touches = CategoryRecommendation::decide(run, &member.build(run, &[180]));
        touches.first().and_then(|t| t.variables.iter().find(|(k, _)| k == "sku").map(|(_, v)| v.clone()))
    }

    fn buyer(run: &Run<Config>) -> MemberBuilder {
        member("m").ordered(run.today - 30, 299.0, "dress").ordered(run.today - 10, 299.0, "dress").ordered(
            run.today - 5,
            99.0,
            "tops",
        )
    }

    #[test]
    fn the_default_config_passes_the_check() {
        assert_eq!(CategoryRecommendation::check(&Config::default()), Ok(()));
    }

    #[test]
    fn zero_orders_or_days_and_an_empty_channel_or_template_are_refused_naming_the_key() {
        let refused = |config: Config| CategoryRecommendation::check(&config).unwrap_err();
        let d = Config::default;
        assert_eq!(refused(Config { min_orders: 0, ..d() }), "min_orders: must be at least 1 (is 0)");
        assert_eq!(refused(Config { window_days: 0, ..d() }), "window_days: must be at least 1 (is 0)");
        assert_eq!(refused(Config { launch_window_days: 0, ..d() }), "launch_window_days: must be at least 1 (is 0)");
        assert!(refused(Config { channel: "".into(), ..d() }).starts_with("channel: must not be empty"));
        assert!(refused(Config { template: "".into(), ..d() }).starts_with("template: must not be empty"));
    }

    #[test]
    fn the_launch_in_the_most_bought_category_wins() {
        let run =
            run_with(vec![product("T1", "tops", day(2026, 3, 19), &[]), product("D1", "dress", day(2026, 3, 15), &[])]);
        assert_eq!(pick(&run, buyer(&run)).as_deref(), Some("D1"));
    }

    #[test]
    fn ties_go_to_the_newest_launch_then_the_lowest_sku() {
        let run = run_with(vec![
            product("D2", "dress", day(2026, 3, 18), &[]),
            product("D3", "dress", day(2026, 3, 18), &[]),
            product("D1", "dress", day(2026, 3, 15), &[]),
        ]);
        assert_eq!(pick(&run, buyer(&run)).as_deref(), Some("D2"));
    }

    #[test]
    fn only_launches_of_the_last_seven_days_in_a_bought_category() {
        let old = run_with(vec![product("D1", "dress", day(2026, 3, 13), &[])]);
        assert_eq!(pick(&old, buyer(&old)), None, "launched 7 days before the run date");
        let edge = run_with(vec![product("D1", "dress", day(2026, 3, 14), &[])]);
        assert_eq!(pick(&edge, buyer(&edge)).as_deref(), Some("D1"), "launched 6 days before");
        let other = run_with(vec![product("S1", "shoes", day(2026, 3, 19), &[])]);
        assert_eq!(pick(&other, buyer(&other)), None);
    }

    #[test]
    fn needs_min_orders_in_the_window_and_never_repeats_a_launch() {
        let run = run_with(vec![
            product("D1", "dress", day(2026, 3, 18), &[]),
            product("D0", "dress", day(2026, 3, 16), &[]),
        ]);
        let once = member("m").ordered(run.today - 10, 299.0, "dress").ordered(run.today - 200, 299.0, "dress");
        assert_eq!(pick(&run, once), None, "one order in the last 180 days");
        let mut told = buyer(&run).build(&run, &[180]);
        told.history.push(PastDecision {
            step: STEP.into(),
            kind: ActionKind::Message,
            status: DecisionStatus::Dispatched,
            run_at: run.run_at - 86_400_000,
            day: run.today - 1,
            channel: "wecom".into(),
            template: "new_arrival".into(),
            variables: vec![("sku".into(), "D1".into())],
            benefit: None,
        });
        let touches = CategoryRecommendation::decide(&run, &told);
        assert_eq!(touches[0].variables[0], ("sku".to_string(), "D0".to_string()));
    }
}
