//! The rules of browse abandonment, one test each, on the SDK's native fixtures.

use super::*;
use canvas_sdk::testing::*;

const VIEW: &str = r#"{"sku":"DR-0001","name":"修身吊带裙"}"#;

/// A call 24 hours after a view at 10:00 on 1 March 2026.
fn call_after_view(attrs: &str) -> Run<Config> {
    triggered_by(Config::default(), PRODUCT_VIEW, instant_on(day(2026, 3, 1)), attrs, 24 * 60)
}

/// `member` with an earlier decision at `step` carrying `sku`, `days_ago` days before the call.
fn with_earlier(
    run: &Run<Config>,
    member: MemberBuilder,
    step: &str,
    status: DecisionStatus,
    days_ago: i32,
    sku: &str,
) -> Member {
    let kind = if step == STEP { ActionKind::Message } else { ActionKind::Coupon };
    let mut member = member.decided(step, kind, status, run.today - days_ago).build(run, &[]);
    member.history.last_mut().unwrap().variables = vec![(SKU.into(), sku.into())];
    member
}

fn steps(run: &Run<Config>, member: &Member) -> Vec<String> {
    BrowseAbandon::decide(run, member).into_iter().map(|t| t.step).collect()
}

#[test]
fn the_default_config_passes_the_check() {
    assert_eq!(BrowseAbandon::check(&Config::default()), Ok(()));
}

#[test]
fn a_wait_or_repeat_window_of_zero_is_refused_naming_the_key() {
    let refused = |config: Config| BrowseAbandon::check(&config).unwrap_err();
    let d = Config::default;
    assert_eq!(refused(Config { wait_hours: 0, ..d() }), "wait_hours: must be at least 1 (is 0)");
    assert_eq!(refused(Config { repeat_after_days: 0, ..d() }), "repeat_after_days: must be at least 1 (is 0)");
    assert_eq!(BrowseAbandon::check(&Config { wait_hours: 1, repeat_after_days: 1, ..d() }), Ok(()));
}

#[test]
fn an_empty_channel_or_template_or_a_coupon_worth_nothing_is_refused_naming_the_key() {
    let refused = |config: Config| BrowseAbandon::check(&config).unwrap_err();
    let d = Config::default;
    assert!(refused(Config { channel: " ".into(), ..d() }).starts_with("channel: must not be empty"));
    assert!(refused(Config { template: "".into(), ..d() }).starts_with("template: must not be empty"));
    let variant = |first_order: FirstOrder| Config { first_order, ..d() };
    let free = variant(FirstOrder { coupon: BenefitSpec::coupon(0.0), ..FirstOrder::default() });
    assert_eq!(refused(free), "first_order.coupon.value: must be from 0.01 to 100000000 yuan (is 0)");
    let no_channel = variant(FirstOrder { channel: "".into(), ..FirstOrder::default() });
    assert!(refused(no_channel).starts_with("first_order.channel: must not be empty"));
    let no_template = variant(FirstOrder { template: "x".repeat(129), ..FirstOrder::default() });
    assert!(refused(no_template).starts_with("first_order.template: is 129 bytes long"));
}

#[test]
fn an_unknown_key_is_refused_by_the_config_itself() {
    let typo = serde_json::from_str::<Config>(r#"{"wait_hour": 12}"#).unwrap_err().to_string();
    assert!(typo.contains("unknown field `wait_hour`"), "{typo}");
    let nested = serde_json::from_str::<Config>(r#"{"first_order": {"value": 5}}"#).unwrap_err().to_string();
    assert!(nested.contains("unknown field `value`"), "{nested}");
}

#[test]
fn it_reacts_to_product_views_with_a_sku_a_day_later_unless_ordered_and_never_on_a_schedule() {
    let audience = BrowseAbandon::audience(&Config::default());
    assert!(audience.any_of.is_empty(), "nobody on a schedule");
    assert_eq!(BrowseAbandon::SCHEDULE, ONLY_ON_TRIGGERS);
    let trigger = &audience.triggers[0];
    assert_eq!((trigger.event_kind.as_str(), trigger.delay_minutes), (PRODUCT_VIEW, 24 * 60));
    assert_eq!(trigger.requires_attrs, [SKU]);
    assert_eq!(trigger.cancel_if, [CancelCondition::Ordered]);
    let sooner = BrowseAbandon::audience(&Config { wait_hours: 6, ..Config::default() });
    assert_eq!(sooner.triggers[0].delay_minutes, 360);
}

#[test]
fn a_view_brings_up_that_product_with_its_name_on_the_configured_channel() {
    let run = call_after_view(VIEW);
    let touches = BrowseAbandon::decide(&run, &member("m").ordered(day(2025, 12, 1), 99.0, "tops").build(&run, &[]));
    assert_eq!(touches.len(), 1);
    let t = &touches[0];
    assert_eq!((t.step.as_str(), t.channel.as_str(), t.template.as_str()), (STEP, "wecom", "browse_abandon"));
    assert_eq!(t.action, Action::Message);
    let vars: Vec<(&str, &str)> = t.variables.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(vars, [("sku", "DR-0001"), ("name", "修身吊带裙")]);
    let bare = call_after_view(r#"{"sku":"DR-0001","url":"https://shop.example.com/p/DR-0001"}"#);
    let t = &BrowseAbandon::decide(&bare, &member("m").build(&bare, &[]))[0];
    assert_eq!(
        t.variables,
        [("sku".into(), "DR-0001".into()), ("url".into(), "https://shop.example.com/p/DR-0001".into())]
    );
}

#[test]
fn a_call_without_a_trigger_or_a_sku_reminds_nobody() {
    let scheduled = run_on(2026, 3, 2, Config::default());
    assert!(BrowseAbandon::decide(&scheduled, &member("m").build(&scheduled, &[])).is_empty());
    let no_sku = call_after_view(r#"{"name":"修身吊带裙"}"#);
    assert!(BrowseAbandon::decide(&no_sku, &member("m").build(&no_sku, &[])).is_empty());
}

#[test]
fn the_same_product_only_once_in_repeat_after_days_counting_what_reached_the_member_or_held_them_back() {
    let run = call_after_view(VIEW);
    let earlier = |step, status, days_ago| with_earlier(&run, member("m"), step, status, days_ago, "DR-0001");
    assert!(steps(&run, &earlier(STEP, DecisionStatus::Dispatched, 29)).is_empty(), "29 days ago");
    assert_eq!(steps(&run, &earlier(STEP, DecisionStatus::Dispatched, 30)), [STEP], "30 days ago is outside");
    assert!(steps(&run, &earlier(STEP, DecisionStatus::Deferred, 3)).is_empty(), "on its way");
    assert!(steps(&run, &earlier(STEP, DecisionStatus::Holdout, 3)).is_empty(), "a control member stays one");
    assert!(steps(&run, &earlier(FIRST_ORDER_STEP, DecisionStatus::Dispatched, 3)).is_empty(), "the variant too");
    assert_eq!(steps(&run, &earlier(STEP, DecisionStatus::Suppressed, 3)), [STEP], "never reached them");
    assert_eq!(steps(&run, &earlier(STEP, DecisionStatus::Failed, 3)), [STEP], "never reached them");
    let other = with_earlier(&run, member("m"), STEP, DecisionStatus::Dispatched, 3, "TP-0002");
    assert_eq!(steps(&run, &other), [STEP], "another product");
    let longer = Run { config: Config { repeat_after_days: 60, ..Config::default() }, ..run.clone() };
    assert!(steps(&longer, &earlier(STEP, DecisionStatus::Dispatched, 45)).is_empty(), "the window is the config's");
}

#[test]
fn a_wecom_friend_who_never_bought_gets_the_first_order_coupon_with_the_product() {
    let run = call_after_view(VIEW);
    let friend = member("m").wecom_added(day(2026, 2, 1));
    let touches = BrowseAbandon::decide(&run, &friend.build(&run, &[]));
    let t = &touches[0];
    assert_eq!((t.step.as_str(), t.template.as_str()), (FIRST_ORDER_STEP, "browse_abandon_first_order"));
    assert_eq!(t.benefit().map(|b| (b.kind, b.value)), Some((BenefitKind::Coupon, 2_000)));
    assert_eq!(t.variables[0], ("sku".into(), "DR-0001".into()));
}

#[test]
fn a_customer_or_a_former_or_never_friend_gets_the_plain_message() {
    let run = call_after_view(VIEW);
    let bought = member("m").wecom_added(day(2026, 2, 1)).ordered(day(2026, 2, 10), 99.0, "tops");
    assert_eq!(steps(&run, &bought.build(&run, &[])), [STEP], "a friend who bought");
    let former = member("m").wecom_added(day(2026, 1, 1)).wecom_deleted(day(2026, 2, 1));
    assert_eq!(steps(&run, &former.build(&run, &[])), [STEP], "deleted the brand");
    assert_eq!(steps(&run, &member("m").build(&run, &[])), [STEP], "never a friend");
}

#[test]
fn a_blank_overlong_or_control_character_sku_reminds_nobody_and_such_a_name_is_left_out() {
    for sku in [" ", &"D".repeat(65), "DR\u{7}"] {
        let run = call_after_view(&serde_json::json!({ "sku": sku }).to_string());
        assert!(BrowseAbandon::decide(&run, &member("m").build(&run, &[])).is_empty(), "{sku:?}");
    }
    let long_name = serde_json::json!({ "sku": "DR-0001", "name": "裙".repeat(200), "url": "https://s.example/\n" });
    let run = call_after_view(&long_name.to_string());
    let t = &BrowseAbandon::decide(&run, &member("m").build(&run, &[]))[0];
    assert_eq!(t.variables, [("sku".into(), "DR-0001".into())], "600 bytes of name and a url with a newline: left out");
}
