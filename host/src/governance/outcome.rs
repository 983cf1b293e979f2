//! What governance makes of a proposal — an [`Outcome`]: sent now, deferred
//! for a [`Wait`], held out, or suppressed for a [`Reason`] — and the one
//! place that words them.
//!
//! A decision keeps its reason as text: the store and decisions.jsonl hold
//! it so, and readers (the summary, operators) read that text. The words
//! are made only where a governed proposal becomes the stored decision
//! ([`Outcome::worded`], then [`Worded::decision`]). A decision read back from the store has
//! nothing but the text, so the one question asked of it later — was it
//! held back by the caps? — is answered here too, by
//! [`held_back_by_caps`], beside the words it reads.

use std::fmt;

use chrono_tz::Tz;

use super::caps::Rule;
use crate::calendar::{date_of_day, BrandCalendar};
use crate::member_base::Unreachable;
use crate::model::{Day, Decision, DecisionStatus, Fen, Millis, Proposal};

/// What becomes of a proposed touch. Borrows the names it gives (a channel,
/// the winning strategy) until it is worded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// Sent at the run instant.
    Dispatched,
    /// Sent at `send_at`, later than the run instant, after what first made it wait.
    Deferred { send_at: Millis, wait: Wait<'a> },
    /// In the strategy's control group: selected and recorded, never touched.
    Holdout { percent: f64 },
    /// Not sent.
    Suppressed(Reason<'a>),
}

/// Why a touch is suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason<'a> {
    /// Another strategy wins the member at this run instant.
    Arbitration { winner: &'a str },
    /// A fatigue cap or the WeCom limit is broken, and the strategy drops
    /// capped touches.
    Capped(Rule<'a>),
    /// A fatigue cap or the WeCom limit is broken until after the
    /// strategy's longest deferral.
    CappedTooLong { rule: Rule<'a>, max_defer_hours: u32 },
    /// The search for a slot gave up (it moves forward a bounded number of times).
    NoSlotFound { max_defer_hours: u32 },
    /// The coupon would take the strategy's coupons of its sending day over
    /// the daily budget; both in fen.
    OverBudget { budget: Fen, spent: Fen },
    /// Neither the touch's channel nor a fallback reaches the member: why, on its channel.
    Unreachable { channel: &'a str, why: Unreachable },
    /// A staff task whose guide had left by the run instant, and no store
    /// fallback nor HQ account who is there to take it.
    GuideLeft { guide: &'a str, left_on: Day, store: &'a str },
    /// A staff task for a guide whose day is full, and the strategy drops those.
    GuideFull(GuideFull<'a>),
    /// A staff task for a guide whose days are full until after the
    /// strategy's longest deferral.
    GuideFullTooLong { full: GuideFull<'a>, max_defer_hours: u32 },
}

/// A guide with as many staff tasks on a brand-local day as they take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuideFull<'a> {
    /// The guide the task would go to (a fallback, when the member's own left).
    pub guide: &'a str,
    /// The tasks they have that day already.
    pub tasks: u32,
    /// The day, in the brand's calendar.
    pub day: Day,
}

/// What first made a deferred touch wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait<'a> {
    /// Quiet hours in this time zone (the member's, else the brand's).
    QuietHours(Tz),
    /// A fatigue cap or the WeCom limit.
    Capped(Rule<'a>),
    /// The guide's day is full.
    GuideFull(GuideFull<'a>),
}

/// Every reason naming a fatigue cap starts with this, and every reason
/// naming the WeCom limit with [`WECOM_LIMIT`]: [`held_back_by_caps`] reads them.
const FATIGUE: &str = "fatigue:";
const WECOM_LIMIT: &str = "WeCom limit:";
/// Every reason naming a channel that cannot reach the member starts with
/// this: the summary counts them ([`unreachable`]).
const UNREACHABLE: &str = "unreachable:";

/// Every reason about a guide starts with this: the summary counts them by
/// kind ([`guide_reason_kind`]), not by guide (a brand has thousands).
const GUIDE: &str = "guide ";
/// What a left guide's reason says after the guide and the day: the task
/// went to someone else, or to no one.
const GOES_TO: &str = ": task goes to ";
const NO_ONE: &str = ": no one to take the task";
/// What a full guide's reason says after the guide, and how it ends.
const HAS: &str = " has ";
const ALREADY: &str = " already";

/// Who took the task of a guide who left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taker<'a> {
    /// The fallback guide of the member's store.
    StoreFallback { store: &'a str },
    /// The brand's HQ account.
    Hq,
}

/// The words a dispatched or deferred staff task's reason starts with when
/// it went to `to` because `guide` left on `left_on`:
/// `guide G0101 left on 2026-02-28: task goes to G0100 (store S01's fallback)`.
pub fn reassigned_note(guide: &str, left_on: Day, to: &str, taker: Taker<'_>) -> String {
    let whose = match taker {
        Taker::StoreFallback { store } => format!("store {store}'s fallback"),
        Taker::Hq => "the brand's HQ account".to_string(),
    };
    format!("{GUIDE}{guide} left on {}{GOES_TO}{to} ({whose})", date_of_day(left_on))
}

/// A reason about a guide — left, or at capacity — without the guide, the
/// day or the count: what the summary counts, so that 12,000 guides make
/// three lines, not thousands. `None` for any other reason.
pub fn guide_reason_kind(reason: &str) -> Option<&'static str> {
    // Its first part: what follows "; " is what the touch waited for, or
    // that it found no slot.
    let about_guide = reason.split("; ").next()?.strip_prefix(GUIDE)?;
    if about_guide.contains(GOES_TO) {
        let to_hq = about_guide.ends_with("(the brand's HQ account)");
        Some(if to_hq {
            "guide left: task goes to the HQ account"
        } else {
            "guide left: task goes to the store's fallback"
        })
    } else if about_guide.contains(NO_ONE) {
        Some("guide left: no one to take the task")
    } else if about_guide.contains(HAS) && about_guide.ends_with(ALREADY) {
        Some("guide at daily task capacity")
    } else {
        None
    }
}

/// Whether a recorded decision was suppressed because its channel (and every
/// fallback) could not reach the member, from its status and reason.
pub fn unreachable(status: DecisionStatus, reason: Option<&str>) -> bool {
    status == DecisionStatus::Suppressed && reason.is_some_and(|text| text.starts_with(UNREACHABLE))
}

/// An outcome as a decision stores it: its status, its reason in words,
/// and a deferred touch's sending time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worded {
    pub status: DecisionStatus,
    pub reason: Option<String>,
    pub send_at: Option<Millis>,
}

impl Outcome<'_> {
    /// The outcome in words, a deferred touch's sending time named in the
    /// brand's `calendar`: done once, where the proposal becomes its
    /// decision (the outcome borrows from the proposal until then).
    pub fn worded(&self, calendar: &BrandCalendar) -> Worded {
        Worded { status: self.status(), reason: self.reason_text(calendar), send_at: self.send_at() }
    }

    fn status(&self) -> DecisionStatus {
        match self {
            Outcome::Dispatched => DecisionStatus::Dispatched,
            Outcome::Deferred { .. } => DecisionStatus::Deferred,
            Outcome::Holdout { .. } => DecisionStatus::Holdout,
            Outcome::Suppressed(_) => DecisionStatus::Suppressed,
        }
    }

    /// A deferred touch's sending time; the others have none of their own.
    pub fn send_at(&self) -> Option<Millis> {
        match self {
            Outcome::Deferred { send_at, .. } => Some(*send_at),
            _ => None,
        }
    }

    /// A touch sent now has no reason; a deferred touch's names its sending time.
    fn reason_text(&self, calendar: &BrandCalendar) -> Option<String> {
        match self {
            Outcome::Dispatched => None,
            Outcome::Deferred { send_at, wait } => Some(format!("{wait}; sends at {}", calendar.format(*send_at))),
            Outcome::Holdout { percent } => Some(format!("in the {percent}% control group")),
            Outcome::Suppressed(reason) => Some(reason.to_string()),
        }
    }
}

impl Worded {
    /// The decision `proposal` becomes: the proposal's fields as they are,
    /// with this outcome.
    pub fn decision(self, proposal: Proposal) -> Decision {
        let Proposal {
            key,
            strategy,
            plugin_version,
            plugin_sha256,
            run_at,
            day,
            member_id,
            step,
            action,
            channel,
            template,
            variables,
            benefit,
            coupon_id,
            guide_id,
            group_buy,
        } = proposal;
        let Worded { status, reason, send_at } = self;
        Decision {
            key,
            strategy,
            plugin_version,
            plugin_sha256,
            run_at,
            day,
            member_id,
            step,
            action,
            channel,
            template,
            variables,
            benefit,
            coupon_id,
            guide_id,
            group_buy,
            status,
            reason,
            send_at,
        }
    }
}

impl Reason<'_> {
    /// Held back by a fatigue cap or the WeCom limit: a strategy whose touch
    /// the caps suppressed is not asked about the member again while they
    /// still would (see `Governor::caps_hold_back`).
    pub fn is_cap(&self) -> bool {
        matches!(self, Reason::Capped(_) | Reason::CappedTooLong { .. })
    }
}

/// Whether a recorded decision was suppressed by a fatigue cap or the WeCom
/// limit ([`Reason::is_cap`]), from its status and its reason's text — all a
/// decision read back from the store keeps of its [`Reason`].
pub fn held_back_by_caps(status: DecisionStatus, reason: Option<&str>) -> bool {
    status == DecisionStatus::Suppressed
        && reason.is_some_and(|text| text.starts_with(FATIGUE) || text.starts_with(WECOM_LIMIT))
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Arbitration { winner } => write!(f, "arbitration: {winner} has priority"),
            Reason::Capped(rule) => write!(f, "{rule}"),
            Reason::CappedTooLong { rule, max_defer_hours } => write!(f, "{rule}; no slot within {max_defer_hours}h"),
            Reason::NoSlotFound { max_defer_hours } => write!(f, "no slot found within {max_defer_hours}h"),
            Reason::OverBudget { budget, spent } => {
                write!(f, "budget: {} yuan of coupons a day, {} yuan spent", budget / 100, spent / 100)
            }
            Reason::Unreachable { channel, why } => write!(f, "{UNREACHABLE} {}", why.on(channel)),
            Reason::GuideLeft { guide, left_on, store } => write!(
                f,
                "{GUIDE}{guide} left on {}{NO_ONE} (no active fallback for store {store}, no active HQ account)",
                date_of_day(*left_on)
            ),
            Reason::GuideFull(full) => write!(f, "{full}"),
            Reason::GuideFullTooLong { full, max_defer_hours } => {
                write!(f, "{full}; no slot within {max_defer_hours}h")
            }
        }
    }
}

impl fmt::Display for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wait::QuietHours(tz) => write!(f, "quiet hours in {}", tz.name()),
            Wait::Capped(rule) => write!(f, "{rule}"),
            Wait::GuideFull(full) => write!(f, "{full}"),
        }
    }
}

impl fmt::Display for GuideFull<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tasks = if self.tasks == 1 { "task" } else { "tasks" };
        write!(f, "{GUIDE}{}{HAS}{} {tasks} on {}{ALREADY}", self.guide, self.tasks, date_of_day(self.day))
    }
}

impl fmt::Display for Rule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Touches { max, hours, channel: None } => write!(f, "{FATIGUE} {max} touches in {hours}h already"),
            Rule::Touches { max, hours, channel: Some(channel) } => {
                write!(f, "{FATIGUE} {max} {channel} touches in {hours}h already")
            }
            Rule::Gap { hours } => write!(f, "{FATIGUE} less than {hours}h since another touch"),
            Rule::Wecom { limit, period } => {
                write!(f, "{WECOM_LIMIT} {limit} bulk messages {period} already (the platform would refuse it)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_instant;

    const SEVEN_DAYS: Rule<'static> = Rule::Touches { max: 2, hours: 168, channel: None };
    const WECOM_MONTH: Rule<'static> = Rule::Touches { max: 4, hours: 720, channel: Some("wecom") };
    const GAP: Rule<'static> = Rule::Gap { hours: 48 };
    const PLATFORM: Rule<'static> = Rule::Wecom { limit: 31, period: "this month" };
    /// 2026-03-01, and the day before.
    const MARCH_1: Day = 20_513;
    const FULL: GuideFull<'static> = GuideFull { guide: "G0101", tasks: 30, day: MARCH_1 };

    /// One reason of each kind, with the text decisions have always stored for it.
    fn every_reason() -> Vec<(Reason<'static>, &'static str)> {
        vec![
            (Reason::Arbitration { winner: "birthday-tiered" }, "arbitration: birthday-tiered has priority"),
            (Reason::Capped(SEVEN_DAYS), "fatigue: 2 touches in 168h already"),
            (Reason::Capped(WECOM_MONTH), "fatigue: 4 wecom touches in 720h already"),
            (Reason::Capped(GAP), "fatigue: less than 48h since another touch"),
            (
                Reason::Capped(PLATFORM),
                "WeCom limit: 31 bulk messages this month already (the platform would refuse it)",
            ),
            (
                Reason::CappedTooLong { rule: GAP, max_defer_hours: 48 },
                "fatigue: less than 48h since another touch; no slot within 48h",
            ),
            (
                Reason::CappedTooLong { rule: PLATFORM, max_defer_hours: 24 },
                "WeCom limit: 31 bulk messages this month already (the platform would refuse it); no slot within 24h",
            ),
            (Reason::NoSlotFound { max_defer_hours: 48 }, "no slot found within 48h"),
            (Reason::OverBudget { budget: 5_099, spent: 4_000 }, "budget: 50 yuan of coupons a day, 40 yuan spent"),
            (
                Reason::GuideLeft { guide: "G0101", left_on: MARCH_1 - 1, store: "S01" },
                "guide G0101 left on 2026-02-28: no one to take the task \
                 (no active fallback for store S01, no active HQ account)",
            ),
            (Reason::GuideFull(FULL), "guide G0101 has 30 tasks on 2026-03-01 already"),
            (
                Reason::GuideFullTooLong { full: FULL, max_defer_hours: 48 },
                "guide G0101 has 30 tasks on 2026-03-01 already; no slot within 48h",
            ),
        ]
    }

    #[test]
    fn reasons_about_guides_are_counted_by_kind_not_by_guide_or_day() {
        let kinds: Vec<(String, Option<&str>)> = every_reason()
            .into_iter()
            .map(|(_, text)| (text.to_string(), guide_reason_kind(text)))
            .filter(|(_, kind)| kind.is_some())
            .collect();
        let no_one = Some("guide left: no one to take the task");
        let full = Some("guide at daily task capacity");
        assert_eq!(kinds.iter().map(|(_, k)| *k).collect::<Vec<_>>(), [no_one, full, full], "{kinds:?}");
        let store = reassigned_note("G0101", MARCH_1 - 1, "G0100", Taker::StoreFallback { store: "S01" });
        assert_eq!(store, "guide G0101 left on 2026-02-28: task goes to G0100 (store S01's fallback)");
        assert_eq!(guide_reason_kind(&store), Some("guide left: task goes to the store's fallback"));
        let hq = reassigned_note("G0101", MARCH_1 - 1, "HQ", Taker::Hq);
        assert_eq!(hq, "guide G0101 left on 2026-02-28: task goes to HQ (the brand's HQ account)");
        assert_eq!(guide_reason_kind(&hq), Some("guide left: task goes to the HQ account"));
        let deferred = Outcome::Deferred { send_at: 0, wait: Wait::GuideFull(FULL) };
        let text = deferred.reason_text(&BrandCalendar::default()).unwrap();
        assert!(text.starts_with("guide G0101 has 30 tasks on 2026-03-01 already; sends at "), "{text}");
        assert_eq!(guide_reason_kind("guidelines: a plugin's words"), None);
        let one = GuideFull { tasks: 1, ..FULL };
        assert_eq!(one.to_string(), "guide G0101 has 1 task on 2026-03-01 already");
        assert_eq!(guide_reason_kind(&one.to_string()), full);
    }

    #[test]
    fn every_reason_renders_to_the_text_decisions_have_always_stored() {
        for (reason, text) in every_reason() {
            assert_eq!(reason.to_string(), text);
            assert_eq!(Outcome::Suppressed(reason).reason_text(&BrandCalendar::default()).as_deref(), Some(text));
        }
    }

    #[test]
    fn deferrals_name_what_made_them_wait_and_when_they_send_in_the_brands_time() {
        let calendar = BrandCalendar::default();
        let send_at = parse_instant("2026-03-01T09:00:00+00:00").unwrap();
        let london = Outcome::Deferred { send_at, wait: Wait::QuietHours(chrono_tz::Europe::London) };
        let text = "quiet hours in Europe/London; sends at 2026-03-01T17:00:00+08:00";
        assert_eq!(london.reason_text(&calendar).as_deref(), Some(text));
        assert_eq!((london.status(), london.send_at()), (DecisionStatus::Deferred, Some(send_at)));
        let capped = Outcome::Deferred { send_at, wait: Wait::Capped(WECOM_MONTH) };
        let text = "fatigue: 4 wecom touches in 720h already; sends at 2026-03-01T17:00:00+08:00";
        assert_eq!(capped.reason_text(&calendar).as_deref(), Some(text));
    }

    #[test]
    fn holdouts_name_their_percentage_and_a_touch_sent_now_has_no_reason() {
        let calendar = BrandCalendar::default();
        let ten = Outcome::Holdout { percent: 10.0 };
        assert_eq!(ten.reason_text(&calendar).as_deref(), Some("in the 10% control group"));
        assert_eq!(
            Outcome::Holdout { percent: 12.5 }.reason_text(&calendar).as_deref(),
            Some("in the 12.5% control group")
        );
        assert_eq!((ten.status(), ten.send_at()), (DecisionStatus::Holdout, None));
        assert_eq!(Outcome::Dispatched.reason_text(&calendar), None);
        assert_eq!(Outcome::Dispatched.status(), DecisionStatus::Dispatched);
    }

    #[test]
    fn a_stored_decision_is_held_back_by_the_caps_exactly_when_its_reason_was_a_cap() {
        for (reason, text) in every_reason() {
            assert_eq!(held_back_by_caps(DecisionStatus::Suppressed, Some(text)), reason.is_cap(), "{text}");
        }
        assert!(every_reason().iter().filter(|(r, _)| r.is_cap()).count() >= 6, "every kind of cap is tried");
        let calendar = BrandCalendar::default();
        let deferred = Outcome::Deferred { send_at: 0, wait: Wait::Capped(GAP) }.reason_text(&calendar);
        assert!(!held_back_by_caps(DecisionStatus::Deferred, deferred.as_deref()), "deferred, not held back");
        assert!(!held_back_by_caps(DecisionStatus::Failed, Some("fatigue: a plugin's own words")));
        assert!(!held_back_by_caps(DecisionStatus::Suppressed, None));
    }

    #[test]
    fn a_proposal_becomes_its_decision_with_every_field_as_proposed_and_the_outcome_worded() {
        use crate::model::{ActionKind, Benefit, BenefitKind, GroupBuy};
        let proposal = Proposal {
            key: "birthday-tiered/birthday/2026-03/M1".into(),
            strategy: "birthday-tiered".into(),
            plugin_version: "0.2.0".into(),
            plugin_sha256: "5e1f".into(),
            run_at: 1_772_330_400_000,
            day: 20_513,
            member_id: "M1".into(),
            step: "birthday".into(),
            action: ActionKind::StaffTask,
            channel: "wecom".into(),
            template: "birthday_call".into(),
            variables: vec![("level".into(), "3".into())],
            benefit: Some(Benefit { kind: BenefitKind::Coupon, value: 3_000, gift: Some("box".into()) }),
            coupon_id: Some("C-f908db4e78e5".into()),
            guide_id: Some("G7".into()),
            group_buy: Some(GroupBuy { sku: "S1".into(), group_size: 3, price: 9_900 }),
        };
        let send_at = proposal.run_at + 3_600_000;
        let outcome = Outcome::Deferred { send_at, wait: Wait::QuietHours(chrono_tz::Asia::Shanghai) };
        let decision = outcome.worded(&BrandCalendar::default()).decision(proposal.clone());
        let expected = Decision {
            key: proposal.key,
            strategy: proposal.strategy,
            plugin_version: proposal.plugin_version,
            plugin_sha256: proposal.plugin_sha256,
            run_at: proposal.run_at,
            day: proposal.day,
            member_id: proposal.member_id,
            step: proposal.step,
            action: proposal.action,
            channel: proposal.channel,
            template: proposal.template,
            variables: proposal.variables,
            benefit: proposal.benefit,
            coupon_id: proposal.coupon_id,
            guide_id: proposal.guide_id,
            group_buy: proposal.group_buy,
            status: DecisionStatus::Deferred,
            reason: Some("quiet hours in Asia/Shanghai; sends at 2026-03-01T11:00:00+08:00".into()),
            send_at: Some(send_at),
        };
        assert_eq!(decision, expected);
    }
}
