//! What the host accepts of a plugin's manifest, and the words it refuses
//! one with: its id, version, texts, API version, default config and
//! schedule, each checked before the plugin is ever run. Loading a real
//! component (its world, exports and version) is in the integration tests
//! (tests/integration/sandbox.rs), which build one.

use super::*;

/// A manifest of API 0.2.0 within every rule.
fn manifest() -> api::Manifest {
    api::Manifest {
        id: "dormant-recall".into(),
        name: "Dormant recall".into(),
        version: "1.2.0".into(),
        api_version: "0.2.0".into(),
        description: "Recalls members 90 days after their last order.".into(),
        default_config: r#"{"after_days":90}"#.into(),
        schedule: "0 10 * * *".into(),
    }
}

fn checked(change: impl FnOnce(&mut api::Manifest)) -> Result<Manifest, String> {
    let mut m = manifest();
    change(&mut m);
    check_manifest(m, "0.2.0")
}

fn refusal(change: impl FnOnce(&mut api::Manifest)) -> String {
    checked(change).expect_err("refused")
}

#[test]
fn a_manifest_within_the_rules_is_read_with_its_texts_made_safe_to_show() {
    let m = checked(|m| {
        m.name = "Dormant \u{1b}[2J recall".into();
        m.description = "Line one\nline \u{7}two".into();
    })
    .expect("accepted");
    assert_eq!((m.id.as_str(), m.version.as_str(), m.api_version.as_str()), ("dormant-recall", "1.2.0", "0.2.0"));
    assert_eq!(m.name, "Dormant \\u{1b}[2J recall");
    assert_eq!(m.description, "Line one\nline \\u{7}two", "a description keeps its lines");
    assert_eq!(m.default_config["after_days"], 90);
    assert_eq!(m.schedule.expression(), "0 10 * * *");
}

#[test]
fn an_id_is_1_to_64_lowercase_letters_digits_and_dashes_not_starting_with_a_dash() {
    let too_long = "a".repeat(65);
    for id in ["", "Dormant", "-recall", "dormant_recall", "dormant recall", "ré", &too_long] {
        let refused = refusal(|m| m.id = id.to_string());
        assert!(refused.ends_with("must be 1–64 characters of a-z, 0-9 and -"), "{id:?}: {refused}");
    }
    assert_eq!(refusal(|m| m.id = "a\u{1b}b".into()), "its id `a\\u{1b}b` must be 1–64 characters of a-z, 0-9 and -");
    for id in ["a", "recall-90", "9-lives", &"a".repeat(64)] {
        assert!(checked(|m| m.id = id.to_string()).is_ok(), "{id}");
    }
}

#[test]
fn a_version_is_required_and_is_1_to_64_characters_without_spaces() {
    assert_eq!(refusal(|m| m.version.clear()), "`dormant-recall` has no version");
    for version in ["1.0 beta", "1.0\n", &"1".repeat(65)] {
        let refused = refusal(|m| m.version = version.to_string());
        assert!(refused.ends_with("must be 1–64 characters without spaces"), "{version:?}: {refused}");
    }
    assert!(checked(|m| m.version = "2.0.0-rc.1+build.5".into()).is_ok());
}

#[test]
fn each_text_of_the_manifest_has_a_limit_in_bytes_named_when_passed() {
    let over = |field: &str, len: usize, max: usize| {
        format!("`dormant-recall`'s {field} is {len} bytes long, over the limit of {max} bytes")
    };
    let name = MAX_MANIFEST_NAME_BYTES;
    assert_eq!(refusal(|m| m.name = "n".repeat(name + 1)), over("name", name + 1, name));
    assert!(checked(|m| m.name = "n".repeat(name)).is_ok(), "at the limit");
    let description = MAX_DESCRIPTION_BYTES;
    assert_eq!(
        refusal(|m| m.description = "d".repeat(description + 1)),
        over("description", description + 1, description)
    );
    // Counted before it is read as JSON: a huge config is never parsed.
    let config = MAX_DEFAULT_CONFIG_BYTES;
    assert_eq!(refusal(|m| m.default_config = " ".repeat(config + 1)), over("default config", config + 1, config));
    assert_eq!(refusal(|m| m.schedule = " ".repeat(name + 1)), over("schedule", name + 1, name));
}

#[test]
fn the_api_version_said_is_the_one_exported() {
    assert_eq!(
        refusal(|m| m.api_version = "0.1.0".into()),
        "`dormant-recall` says it targets API 0.1.0 but exports canvas:strategy@0.2.0"
    );
}

#[test]
fn the_default_config_is_a_json_object_and_the_schedule_a_5_field_cron_expression() {
    let not_json = refusal(|m| m.default_config = "{".into());
    assert!(not_json.starts_with("`dormant-recall`'s default config is not JSON: "), "{not_json}");
    assert_eq!(refusal(|m| m.default_config = "[1]".into()), "`dormant-recall`'s default config is not a JSON object");
    let schedule = refusal(|m| m.schedule = "every day".into());
    assert!(
        schedule.starts_with("`dormant-recall`'s schedule: `every day` is not a 5-field cron schedule"),
        "{schedule}"
    );
    assert!(refusal(|m| m.schedule = "0 0 10 * * *".into()).contains("is not a 5-field cron schedule"), "no seconds");
}
