//! Staff tasks per guide per day: how many tasks each guide was sent on each
//! brand-local day they were sent, summed up so that it reads the same at
//! ten guides and at 12,000 — a histogram of guide-days by their tasks, and
//! the busiest guide-days — for the summary table and the report.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::date_of_day;
use crate::model::Day;

/// Upper bounds of the histogram's buckets of tasks a guide-day; the last
/// bucket has none. Guides' capacities are in the tens (a bulk task is
/// confirmed by hand), so a day over 50 is one to look at.
const BUCKETS: [u32; 7] = [1, 2, 5, 10, 20, 30, 50];
/// The busiest guide-days the report names.
const BUSIEST: usize = 10;

/// Tasks per (guide, day), counted as decisions come.
#[derive(Clone, Debug, Default)]
pub struct GuideDays {
    tasks: HashMap<(String, Day), u32>,
}

impl GuideDays {
    /// One more task for `guide`, sent on `day`.
    pub fn add(&mut self, guide: &str, day: Day) {
        let n = self.tasks.entry((guide.to_string(), day)).or_default();
        *n = n.saturating_add(1);
    }

    /// The totals, the histogram and the busiest guide-days.
    pub fn totals(&self) -> GuideTasks {
        let mut histogram: Vec<GuideDayBucket> =
            bucket_labels().into_iter().map(|tasks_a_day| GuideDayBucket { tasks_a_day, guide_days: 0 }).collect();
        for &n in self.tasks.values() {
            let bucket = BUCKETS.iter().position(|&most| n <= most).unwrap_or(BUCKETS.len());
            histogram[bucket].guide_days += 1;
        }
        let mut busiest: Vec<(&(String, Day), &u32)> = self.tasks.iter().collect();
        // Most tasks first, then the earlier day, then the guide: the same
        // order every time, whatever the map's.
        busiest.sort_unstable_by(|(a, n), (b, m)| m.cmp(n).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
        let guides: std::collections::HashSet<&str> = self.tasks.keys().map(|(g, _)| g.as_str()).collect();
        GuideTasks {
            tasks: self.tasks.values().map(|&n| u64::from(n)).sum(),
            guides: guides.len() as u64,
            guide_days: self.tasks.len() as u64,
            histogram,
            busiest: busiest
                .into_iter()
                .take(BUSIEST)
                .map(|((guide, day), &tasks)| BusiestDay { guide: guide.clone(), date: date_of_day(*day), tasks })
                .collect(),
        }
    }
}

fn bucket_labels() -> Vec<String> {
    let mut from = 1;
    let mut labels: Vec<String> = BUCKETS
        .iter()
        .map(|&to| {
            let label = if from == to { to.to_string() } else { format!("{from}–{to}") };
            from = to + 1;
            label
        })
        .collect();
    labels.push(format!("{from}+"));
    labels
}

/// Staff tasks sent per guide per day, over a run or a simulation.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GuideTasks {
    /// Staff tasks sent (dispatched or deferred).
    pub tasks: u64,
    /// Distinct guides sent one (a fallback counts as the guide it is).
    pub guides: u64,
    /// (guide, day) pairs with a task.
    pub guide_days: u64,
    /// Guide-days by the tasks they had: `1`, `2`, `3–5` … `51+`.
    pub histogram: Vec<GuideDayBucket>,
    /// The guide-days with the most tasks, most first.
    pub busiest: Vec<BusiestDay>,
}

/// A bar of the guide-days histogram.
#[derive(Clone, Debug, Serialize)]
pub struct GuideDayBucket {
    /// Tasks a day: `1`, `3–5`, `51+`.
    pub tasks_a_day: String,
    /// Guide-days with that many.
    pub guide_days: u64,
}

/// One guide's tasks on one day.
#[derive(Clone, Debug, Serialize)]
pub struct BusiestDay {
    /// The guide.
    pub guide: String,
    /// The brand-local day the tasks were sent on.
    pub date: NaiveDate,
    /// How many.
    pub tasks: u32,
}

impl GuideTasks {
    /// The summary table's lines, or nothing when no staff task was sent:
    /// `staff tasks per guide per day: 412 tasks to 97 guides on 380
    /// guide-days, at most 3 (G0601 on 2026-08-12)`, then the histogram up
    /// to its last bucket that has any.
    pub fn lines(&self) -> String {
        let Some(top) = self.busiest.first() else { return String::new() };
        let mut out = format!(
            "staff tasks per guide per day: {} tasks to {} guides on {} guide-days, at most {} ({} on {})\n",
            self.tasks, self.guides, self.guide_days, top.tasks, top.guide, top.date
        );
        let last = self.histogram.iter().rposition(|b| b.guide_days > 0).unwrap_or(0);
        let buckets: Vec<String> =
            self.histogram[..=last].iter().map(|b| format!("{}: {}", b.tasks_a_day, b.guide_days)).collect();
        let _ = writeln!(out, "  guide-days by tasks that day: {}", buckets.join(", "));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_days_are_counted_into_buckets_and_the_busiest_named_most_first() {
        let mut days = GuideDays::default();
        for _ in 0..31 {
            days.add("G0101", 20_513);
        }
        for _ in 0..2 {
            days.add("G0102", 20_513);
        }
        days.add("G0102", 20_514);
        days.add("G0100", 20_514);
        let t = days.totals();
        assert_eq!((t.tasks, t.guides, t.guide_days), (35, 3, 4));
        let counts: Vec<(&str, u64)> = t.histogram.iter().map(|b| (b.tasks_a_day.as_str(), b.guide_days)).collect();
        assert_eq!(
            counts,
            [("1", 2), ("2", 1), ("3–5", 0), ("6–10", 0), ("11–20", 0), ("21–30", 0), ("31–50", 1), ("51+", 0)]
        );
        let busiest: Vec<(&str, String, u32)> =
            t.busiest.iter().map(|b| (b.guide.as_str(), b.date.to_string(), b.tasks)).collect();
        assert_eq!(
            busiest,
            [
                ("G0101", "2026-03-01".into(), 31),
                ("G0102", "2026-03-01".into(), 2),
                ("G0100", "2026-03-02".into(), 1),
                ("G0102", "2026-03-02".into(), 1)
            ]
        );
        assert_eq!(
            t.lines(),
            "staff tasks per guide per day: 35 tasks to 3 guides on 4 guide-days, at most 31 (G0101 on 2026-03-01)\n  \
             guide-days by tasks that day: 1: 2, 2: 1, 3–5: 0, 6–10: 0, 11–20: 0, 21–30: 0, 31–50: 1\n"
        );
        assert_eq!(GuideDays::default().totals().lines(), "", "no staff task, no lines");
    }
}
