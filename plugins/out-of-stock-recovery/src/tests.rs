//! The rules of out-of-stock recovery, one test each, on the SDK's native fixtures.

use super::*;
use canvas_sdk::testing::*;

const REQUEST_ATTRS: &str = r#"{"sku":"DR-0001","size":"M","store_id":"S03"}"#;

fn call(attrs: &str) -> Run<Config> {
    triggered_by(Config::default(), REQUEST, instant_on(day(2026, 3, 1)), attrs, 0)
}

fn touches(attrs: &str) -> Vec<Touch> {
    let run = call(attrs);
    OutOfStockRecovery::decide(&run, &member("m").build(&run, &[]))
}

fn var<'a>(touch: &'a Touch, key: &str) -> Option<&'a str> {
    touch.variables.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn refused(shop_link: &str) -> String {
    OutOfStockRecovery::check(&Config { shop_link: shop_link.into(), ..Config::default() }).unwrap_err()
}

#[test]
fn the_default_config_passes_the_check() {
    assert_eq!(OutOfStockRecovery::check(&Config::default()), Ok(()));
}

#[test]
fn a_shop_link_that_is_no_web_address_is_refused_naming_the_key() {
    assert!(refused("").starts_with("shop_link: must not be empty"));
    assert_eq!(
        refused("shop.example.com/{sku}"),
        r#"shop_link: must start with https:// or http:// (is "shop.example.com/{sku}")"#
    );
    assert_eq!(
        refused("https://shop.example.com/p/{sku} now"),
        r#"shop_link: must not hold spaces (is "https://shop.example.com/p/{sku} now")"#
    );
    let long = format!("https://shop.example.com/{{sku}}/{}", "x".repeat(1_000));
    assert_eq!(refused(&long), "shop_link: is 1031 bytes long; at most 1024 bytes");
    assert!(refused("https://shop.example.com/\u{7}{sku}").starts_with("shop_link: must not hold control characters"));
}

#[test]
fn a_shop_link_without_the_sku_or_with_an_unknown_placeholder_or_a_lone_brace_is_refused() {
    assert_eq!(
        refused("https://shop.example.com/p?size={size}"),
        r#"shop_link: must hold {sku}, where the product goes (is "https://shop.example.com/p?size={size}")"#
    );
    assert_eq!(
        refused("https://shop.example.com/p/{sku}?colour={colour}"),
        "shop_link: unknown placeholder {colour}; placeholders are {sku}, {size}, {store}"
    );
    let lone = "shop_link: a lone brace at byte 27; placeholders are {sku}, {size}, {store}";
    assert_eq!(refused("https://shop.example.com/p/{sku"), lone);
    assert_eq!(
        refused("https://shop.example.com/p/sku}"),
        "shop_link: a lone brace at byte 30; placeholders are {sku}, {size}, {store}"
    );
    let every = Config { shop_link: "http://s.example/{store}/{sku}/{size}".into(), ..Config::default() };
    assert_eq!(OutOfStockRecovery::check(&every), Ok(()));
}

#[test]
fn a_coupon_worth_nothing_or_an_empty_template_is_refused_naming_the_key() {
    let d = Config::default;
    let free = Config { coupon: BenefitSpec::coupon(0.0), ..d() };
    assert_eq!(
        OutOfStockRecovery::check(&free).unwrap_err(),
        "coupon.value: must be from 0.01 to 100000000 yuan (is 0)"
    );
    let blank = Config { template: "".into(), ..d() };
    assert!(OutOfStockRecovery::check(&blank).unwrap_err().starts_with("template: must not be empty"));
    let typo = serde_json::from_str::<Config>(r#"{"shop_url": "https://x/{sku}"}"#).unwrap_err().to_string();
    assert!(typo.contains("unknown field `shop_url`"), "{typo}");
}

#[test]
fn it_reacts_at_once_to_requests_with_a_sku_a_size_and_a_store_and_never_on_a_schedule() {
    let audience = OutOfStockRecovery::audience(&Config::default());
    assert!(audience.any_of.is_empty());
    assert_eq!(OutOfStockRecovery::SCHEDULE, ONLY_ON_TRIGGERS);
    let trigger = &audience.triggers[0];
    assert_eq!((trigger.event_kind.as_str(), trigger.delay_minutes), (REQUEST, 0));
    assert_eq!(trigger.requires_attrs, [SKU, SIZE, STORE_ID]);
    assert!(trigger.cancel_if.is_empty());
}

#[test]
fn the_members_guide_gets_a_task_with_the_link_for_that_product_in_that_size() {
    let touches = touches(REQUEST_ATTRS);
    assert_eq!(touches.len(), 1);
    let t = &touches[0];
    let Action::StaffTask(task) = &t.action else { panic!("a staff task: {t:?}") };
    assert_eq!((task.guide_id.as_str(), task.benefit.clone()), ("G001", None), "no coupon unless price-sensitive");
    assert_eq!((t.step.as_str(), t.channel.as_str(), t.template.as_str()), (STEP, "wecom", "out_of_stock_recovery"));
    assert_eq!([var(t, "sku"), var(t, "size"), var(t, "store")], [Some("DR-0001"), Some("M"), Some("S03")]);
    assert_eq!(var(t, "link"), Some("https://shop.example.com/p/DR-0001?size=M"));
}

#[test]
fn a_price_sensitive_member_also_gets_the_coupon_and_only_when_the_store_said_true() {
    let coupon = |attrs: &str| match &touches(attrs)[0].action {
        Action::StaffTask(task) => task.benefit.as_ref().map(|b| (b.kind, b.value)),
        other => panic!("a staff task: {other:?}"),
    };
    let with =
        |sensitive: &str| format!(r#"{{"sku":"DR-0001","size":"M","store_id":"S03","price_sensitive":{sensitive}}}"#);
    assert_eq!(coupon(&with("true")), Some((BenefitKind::Coupon, 2_000)));
    assert_eq!(coupon(&with("false")), None);
    assert_eq!(coupon(&with(r#""yes""#)), None);
}

#[test]
fn what_the_till_sent_is_percent_encoded_in_the_link() {
    let t = &touches(r#"{"sku":"DR 01/&x=1","size":"XL+","store_id":"S03"}"#)[0];
    assert_eq!(var(t, "link"), Some("https://shop.example.com/p/DR%2001%2F%26x%3D1?size=XL%2B"));
    assert_eq!(var(t, "sku"), Some("DR 01/&x=1"), "the variable as sent");
    let numeric = &touches(r#"{"sku":"DR-0001","size":38,"store_id":"S03"}"#)[0];
    assert_eq!(var(numeric, "link"), Some("https://shop.example.com/p/DR-0001?size=38"), "a number is a size too");
}

#[test]
fn a_request_without_a_trigger_or_with_an_empty_or_overlong_attribute_asks_nothing_of_the_guide() {
    let scheduled = run_on(2026, 3, 1, Config::default());
    assert!(OutOfStockRecovery::decide(&scheduled, &member("m").build(&scheduled, &[])).is_empty());
    assert!(touches(r#"{"sku":"DR-0001","size":" ","store_id":"S03"}"#).is_empty());
    let long = format!(r#"{{"sku":"{}","size":"M","store_id":"S03"}}"#, "D".repeat(65));
    assert!(touches(&long).is_empty());
    assert!(touches(r#"{"sku":"DR-0001","size":"M"}"#).is_empty(), "no store");
    assert!(touches(r#"{"sku":"DR-0001","size":"M\u001b[2J","store_id":"S03"}"#).is_empty(), "a terminal escape");
}
