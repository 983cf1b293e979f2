//! Small checks for [`crate::Strategy::check`]: each names the config key
//! and the allowed range in its message, so the operator who sets a bad value
//! reads what to write instead (`after_days: must be at least 1 (is 0)`).
//!
//! The limits on names mirror the host's limits on a touch (docs/plugins.md,
//! "The host checks every touch"): a channel the host would refuse on every
//! touch is better refused once, when the config is set.
//!
//! ```ignore
//! fn check(c: &Config) -> Result<(), String> {
//!     check::at_least("after_days", c.after_days, 1)?;
//!     check::channel("channel", &c.channel)?;
//!     check::template("template", &c.template)?;
//!     c.benefit.check("benefit")
//! }
//! ```

use std::fmt::Display;
use std::ops::RangeInclusive;

/// The member levels there are: a profile's `level` is 1..=4 (V1..V4).
pub const MEMBER_LEVELS: RangeInclusive<u8> = 1..=4;

/// The longest channel the host accepts on a touch, in bytes.
pub const MAX_CHANNEL_BYTES: usize = 64;
/// The longest template or gift name the host accepts on a touch, in bytes.
pub const MAX_LABEL_BYTES: usize = 128;

/// `value` is at least `min`: a day or hour count where 0 makes no sense, a group size.
pub fn at_least<T: PartialOrd + Display>(key: &str, value: T, min: T) -> Result<(), String> {
    if value < min {
        return Err(format!("{key}: must be at least {min} (is {value})"));
    }
    Ok(())
}

/// `level` is a member level (1–4).
pub fn member_level(key: &str, level: u8) -> Result<(), String> {
    if !MEMBER_LEVELS.contains(&level) {
        return Err(format!(
            "{key}: unknown member level; levels are {}–{}",
            MEMBER_LEVELS.start(),
            MEMBER_LEVELS.end()
        ));
    }
    Ok(())
}

/// A channel a touch can carry: 1–64 bytes, not blank, no control characters.
pub fn channel(key: &str, channel: &str) -> Result<(), String> {
    name(key, channel, MAX_CHANNEL_BYTES)
}

/// A template a touch can carry: 1–128 bytes, not blank, no control characters.
pub fn template(key: &str, template: &str) -> Result<(), String> {
    name(key, template, MAX_LABEL_BYTES)
}

/// A name the host shows or passes on: not blank, at most `max` bytes, no
/// control characters (the host refuses each of these on a touch).
pub fn name(key: &str, text: &str, max: usize) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!("{key}: must not be empty; 1–{max} bytes"));
    }
    if text.len() > max {
        return Err(format!("{key}: is {} bytes long; at most {max} bytes", text.len()));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{key}: must not hold control characters; 1–{max} bytes of text"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_below_its_minimum_is_refused_naming_the_key_the_minimum_and_the_value() {
        assert_eq!(at_least("after_days", 0u32, 1), Err("after_days: must be at least 1 (is 0)".into()));
        assert_eq!(at_least("group_size", 1u8, 2), Err("group_size: must be at least 2 (is 1)".into()));
        assert_eq!(at_least("after_days", 1u32, 1), Ok(()));
    }

    #[test]
    fn only_levels_one_to_four_are_member_levels() {
        assert_eq!(member_level("levels.7", 7), Err("levels.7: unknown member level; levels are 1–4".into()));
        assert_eq!(member_level("levels.0", 0), Err("levels.0: unknown member level; levels are 1–4".into()));
        for level in MEMBER_LEVELS {
            assert_eq!(member_level("levels", level), Ok(()));
        }
    }

    #[test]
    fn a_blank_overlong_or_control_character_name_is_refused_naming_the_key_and_the_limit() {
        assert_eq!(channel("channel", " "), Err("channel: must not be empty; 1–64 bytes".into()));
        assert_eq!(channel("channel", &"x".repeat(65)), Err("channel: is 65 bytes long; at most 64 bytes".into()));
        assert_eq!(template("template", &"x".repeat(128)), Ok(()));
        let bell = template("template", "coupon\u{7}").unwrap_err();
        assert!(bell.starts_with("template: must not hold control characters"), "{bell}");
        assert_eq!(channel("channel", "app-push"), Ok(()));
    }
}
