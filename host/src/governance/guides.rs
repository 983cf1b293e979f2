//! Store guides as people: a staff task goes to a guide who is there, and a
//! guide takes only so many tasks a day (each WeCom bulk task is confirmed
//! by hand).
//!
//! - **Who takes the task.** The member's own guide, unless guides.csv says
//!   they had left by the run instant (a departure after it is not seen: a
//!   simulation never knows the future). Then the member's store's fallback
//!   (`[governance.guides] store_fallback`), else the brand's HQ account
//!   (`hq_account`) — each only if they have not left too. With neither, the
//!   task is suppressed, naming the guide and the day they left.
//! - **How many a day.** A guide's `daily_task_capacity` from guides.csv,
//!   else `default_daily_capacity` (none: no limit) — the same for a
//!   fallback and the HQ account, so list those in guides.csv to give them
//!   a capacity of their own. Tasks count on the brand-local day they are
//!   sent, over every strategy and run ([`GuideTasks`], fed by
//!   `Governor::remember`).

use rustc_hash::FxHashMap;

use super::outcome::{GuideFull, Reason, Taker};
use super::policy::GuidesPolicy;
use super::Members;
use crate::calendar::BrandCalendar;
use crate::keyed;
use crate::model::{Day, Millis};

/// Staff tasks each guide is sent (or is to be sent), per brand-local day.
#[derive(Clone, Default)]
pub(super) struct GuideTasks {
    /// Fx: looked up for every staff task decided; guide ids come from the
    /// brand's own data. A guide's days are few (a run's, and the next two
    /// of deferred tasks), so a vector beats a map.
    by_guide: FxHashMap<String, Vec<(Day, u32)>>,
}

impl GuideTasks {
    /// One more task for `guide` on `day`.
    pub fn add(&mut self, guide: &str, day: Day) {
        let days = keyed::value_for(&mut self.by_guide, guide);
        match days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => days.push((day, 1)),
        }
    }

    /// The tasks `guide` has on `day`.
    pub fn on(&self, guide: &str, day: Day) -> u32 {
        let days = self.by_guide.get(guide).map_or(&[][..], Vec::as_slice);
        days.iter().find(|(d, _)| *d == day).map_or(0, |&(_, n)| n)
    }
}

/// A guide a staff task goes to, with the tasks they take a day (if limited).
#[derive(Clone, Copy, Debug)]
pub(super) struct Assignee<'a> {
    pub guide: &'a str,
    pub capacity: Option<u32>,
}

impl<'a> Assignee<'a> {
    /// Whether the guide's `day` is full: the tasks they have, if so.
    pub fn full_on(&self, tasks: &GuideTasks, day: Day) -> Option<GuideFull<'a>> {
        let capacity = self.capacity?;
        let have = tasks.on(self.guide, day);
        (have >= capacity).then_some(GuideFull { guide: self.guide, tasks: have, day })
    }
}

/// A left guide's task, given to someone who is there: whom, and the words
/// the decision's reason starts with.
pub(super) struct Reassigned {
    pub to: String,
    pub note: String,
}

/// Who takes a staff task for `guide`, `member`'s guide, at `at`: the guide
/// (no [`Reassigned`]), a fallback, or — when the guide left and no one is
/// there to take it — the [`Reason`] it is suppressed for.
pub(super) fn assign<'p>(
    policy: &'p GuidesPolicy,
    calendar: &BrandCalendar,
    members: &'p impl Members,
    member: &str,
    guide: &'p str,
    at: Millis,
) -> Result<(Assignee<'p>, Option<Reassigned>), Reason<'p>> {
    let own = Assignee { guide, capacity: capacity(policy, members, guide) };
    let Some(left_at) = members.guide(guide).and_then(|g| g.left_by(at)) else {
        return Ok((own, None));
    };
    let left_on = calendar.day_of(left_at);
    let store = members.store_of(member).unwrap_or_default();
    let there = |id: &str| members.guide(id).is_none_or(|g| g.left_by(at).is_none());
    let fallback =
        policy.store_fallback.get(store).filter(|id| there(id)).map(|id| (id, Taker::StoreFallback { store }));
    let hq = || policy.hq_account.as_ref().filter(|id| there(id)).map(|id| (id, Taker::Hq));
    match fallback.or_else(hq) {
        Some((to, taker)) => {
            let note = super::outcome::reassigned_note(guide, left_on, to, taker);
            let assignee = Assignee { guide: to, capacity: capacity(policy, members, to) };
            Ok((assignee, Some(Reassigned { to: to.clone(), note })))
        }
        None => Err(Reason::GuideLeft { guide, left_on, store }),
    }
}

/// The tasks `guide` takes a day: guides.csv's, else the brand's default.
fn capacity(policy: &GuidesPolicy, members: &impl Members, guide: &str) -> Option<u32> {
    members.guide(guide).and_then(|g| g.daily_task_capacity).or(policy.default_daily_capacity)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono_tz::Tz;

    use super::super::tests::{proposal, TEN};
    use super::super::{GovernancePolicy, Governor, GuidesPolicy, Members, OnCap, StrategyRules};
    use crate::calendar::{parse_instant, BrandCalendar};
    use crate::member_base::Unreachable;
    use crate::model::{ActionKind, Decision, DecisionStatus, Guide, Millis, Proposal};

    /// Members of store S01 (M1, M2 …), every channel reaching them, and the guides of guides.csv.
    struct Brand(Vec<Guide>);

    impl Members for Brand {
        fn time_zone(&self, _: &str) -> Option<Tz> {
            None
        }

        fn unreachable(&self, _: &str, _: &str, _: bool, _: Millis) -> Option<Unreachable> {
            None
        }

        fn store_of(&self, _: &str) -> Option<&str> {
            Some("S01")
        }

        fn guide(&self, id: &str) -> Option<&Guide> {
            self.0.iter().find(|g| g.id == id)
        }
    }

    fn guide(id: &str, left_at: Option<&str>, capacity: Option<u32>) -> Guide {
        let left_at = left_at.map(|text| parse_instant(text).unwrap());
        Guide { id: id.into(), store_id: "S01".into(), name: id.into(), left_at, daily_task_capacity: capacity }
    }

    /// A staff task of first-purchase-nudge for `member`, whose guide is G0101.
    fn task(member: &str, at: Millis) -> Proposal {
        let mut p = proposal("first-purchase-nudge", member, at);
        p.action = ActionKind::StaffTask;
        p.guide_id = Some("G0101".into());
        p
    }

    fn governor(guides: GuidesPolicy, on_guide_full: OnCap) -> Governor {
        let rules = StrategyRules {
            holdout_percent: 0.0,
            on_cap: OnCap::Defer,
            max_defer_hours: 48,
            coupon_budget_per_day: None,
            fallback_channels: Vec::new(),
            on_guide_full,
        };
        let policy = GovernancePolicy { holdout_percent: 0.0, guides, ..Default::default() };
        Governor::new(policy, HashMap::from([("first-purchase-nudge".to_string(), rules)]), BrandCalendar::default())
    }

    fn fallbacks(hq: Option<&str>, store: Option<&str>) -> GuidesPolicy {
        let store_fallback = store.map(|g| ("S01".to_string(), g.to_string())).into_iter().collect();
        GuidesPolicy { hq_account: hq.map(String::from), store_fallback, ..Default::default() }
    }

    fn one(g: &mut Governor, p: Proposal, brand: &Brand) -> Decision {
        let at = p.run_at;
        g.decide(at, vec![vec![p]], &[], brand).remove(0)
    }

    fn seen(d: &Decision) -> (DecisionStatus, Option<&str>, Option<&str>) {
        (d.status, d.guide_id.as_deref(), d.reason.as_deref())
    }

    #[test]
    fn a_task_for_a_guide_who_left_yesterday_goes_to_the_stores_fallback_and_says_so() {
        let at = parse_instant(TEN).unwrap();
        let brand = Brand(vec![guide("G0101", Some("2026-02-28T18:00:00+08:00"), None), guide("G0100", None, None)]);
        let mut g = governor(fallbacks(Some("HQ"), Some("G0100")), OnCap::Defer);
        let d = one(&mut g, task("M1", at), &brand);
        let why = "guide G0101 left on 2026-02-28: task goes to G0100 (store S01's fallback)";
        assert_eq!(seen(&d), (DecisionStatus::Dispatched, Some("G0100"), Some(why)));
        let day = BrandCalendar::default().day_of(at);
        assert_eq!(g.guide_tasks.on("G0100", day), 1, "the fallback's day counts it");
        assert_eq!(g.guide_tasks.on("G0101", day), 0);
    }

    #[test]
    fn a_guide_who_leaves_after_the_run_instant_still_gets_the_task() {
        let at = parse_instant(TEN).unwrap();
        let brand = Brand(vec![guide("G0101", Some("2026-03-01T10:00:01+08:00"), None)]);
        let d = one(&mut governor(fallbacks(Some("HQ"), None), OnCap::Defer), task("M1", at), &brand);
        assert_eq!(seen(&d), (DecisionStatus::Dispatched, Some("G0101"), None));
    }

    #[test]
    fn without_a_store_fallback_who_is_there_the_hq_account_takes_it_and_without_that_no_one() {
        let at = parse_instant(TEN).unwrap();
        let left = Some("2026-02-28T18:00:00+08:00");
        let brand = Brand(vec![guide("G0101", left, None), guide("G0100", Some("2026-01-10T12:00:00+08:00"), None)]);
        let to_hq = "guide G0101 left on 2026-02-28: task goes to HQ (the brand's HQ account)";
        let d = one(&mut governor(fallbacks(Some("HQ"), None), OnCap::Defer), task("M1", at), &brand);
        assert_eq!(seen(&d), (DecisionStatus::Dispatched, Some("HQ"), Some(to_hq)));
        let d = one(&mut governor(fallbacks(Some("HQ"), Some("G0100")), OnCap::Defer), task("M1", at), &brand);
        assert_eq!(seen(&d), (DecisionStatus::Dispatched, Some("HQ"), Some(to_hq)), "the store's fallback left too");

        let d = one(&mut governor(fallbacks(None, Some("G0100")), OnCap::Defer), task("M1", at), &brand);
        let no_one = "guide G0101 left on 2026-02-28: no one to take the task \
                      (no active fallback for store S01, no active HQ account)";
        assert_eq!(seen(&d), (DecisionStatus::Suppressed, Some("G0101"), Some(no_one)));
        let coupon = proposal("first-purchase-nudge", "M1", at);
        let d = one(&mut governor(fallbacks(None, None), OnCap::Defer), coupon, &brand);
        assert_eq!(d.status, DecisionStatus::Dispatched, "only staff tasks go to a guide");
    }

    #[test]
    fn the_31st_task_of_a_guide_with_capacity_30_waits_for_the_next_morning_or_is_dropped() {
        let at = parse_instant(TEN).unwrap();
        let brand = Brand(vec![guide("G0101", None, Some(30))]);
        let tasks = || vec![(1..=31).map(|i| task(&format!("M{i:02}"), at)).collect::<Vec<_>>()];
        let out = governor(GuidesPolicy::default(), OnCap::Defer).decide(at, tasks(), &[], &brand);
        assert!(out[..30].iter().all(|d| d.status == DecisionStatus::Dispatched));
        let next_morning = parse_instant("2026-03-02T09:00:00+08:00").unwrap();
        assert_eq!((out[30].status, out[30].send_at), (DecisionStatus::Deferred, Some(next_morning)));
        assert_eq!(
            out[30].reason.as_deref(),
            Some("guide G0101 has 30 tasks on 2026-03-01 already; sends at 2026-03-02T09:00:00+08:00")
        );

        let out = governor(GuidesPolicy::default(), OnCap::Drop).decide(at, tasks(), &[], &brand);
        assert_eq!(
            seen(&out[30]),
            (DecisionStatus::Suppressed, Some("G0101"), Some("guide G0101 has 30 tasks on 2026-03-01 already"))
        );
    }

    #[test]
    fn earlier_runs_fill_a_guides_day_and_the_default_capacity_holds_for_guides_not_listed() {
        let at = parse_instant(TEN).unwrap();
        let earlier = at - 3_600_000;
        let two_a_day = || GuidesPolicy { default_daily_capacity: Some(2), ..Default::default() };
        let (brand, listed) = (Brand(Vec::new()), Brand(vec![guide("G0101", None, Some(5))]));
        let first_run = governor(two_a_day(), OnCap::Defer).decide(
            earlier,
            vec![vec![task("A", earlier), task("B", earlier)]],
            &[],
            &brand,
        );
        assert!(first_run.iter().all(|d| d.status == DecisionStatus::Dispatched));
        // The next run's governor remembers them, as it does from the store.
        let mut next = governor(two_a_day(), OnCap::Defer);
        for d in &first_run {
            next.remember(&d.view());
        }
        let d = one(&mut next, task("C", at), &brand);
        assert_eq!(d.status, DecisionStatus::Deferred, "{d:?}");
        assert!(d.reason.as_deref().unwrap().starts_with("guide G0101 has 2 tasks on 2026-03-01 already"), "{d:?}");
        assert_eq!(one(&mut next, task("D", at), &listed).status, DecisionStatus::Dispatched, "its own capacity, 5");
    }
}
