//! Sales recovered by guides (缺货挽回, 专属业绩): a member asked a store for a
//! size it lacked, the `out-of-stock-recovery` strategy sent their guide a
//! staff task with the online shop's link, and the member ordered. Each
//! order the member places within the attribution window after such a task
//! sent in the range is credited to the guide the task went to (the
//! decision's guide: a departed guide's task went to whoever took it), each
//! order once — to the latest such task before it.
//!
//! This is the guide's credit, as brands pay it, beside the strategies'
//! numbers, not instead of them: the same order may also be a strategy's
//! attributed revenue (last touch), which is why the two are never summed.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use super::touches::{Kind, Touches};
use crate::member_base::MemberBase;
use crate::model::{ActionKind, Fen, Millis};

/// The strategy whose staff tasks recover sales: the shipped plugin's id.
pub const RECOVERY_STRATEGY: &str = "out-of-stock-recovery";

/// One guide's recovered sales in the range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideRecovery {
    /// The guide the recovery tasks went to.
    pub guide_id: String,
    /// Recovery tasks sent to the guide in the range.
    pub tasks: u64,
    /// Members of those tasks who ordered within the window after one.
    pub members_ordered: u64,
    /// Orders credited to the guide.
    pub orders: u64,
    /// Their revenue.
    pub revenue_fen: Fen,
}

fn within(t: Millis, at: Millis, window: Millis) -> bool {
    at > t && at <= t.saturating_add(window)
}

/// Per guide with a recovery task sent in the range, most revenue first
/// (ties: by guide id); empty when the strategy sent none.
pub(super) fn by_guide(base: &MemberBase, touches: &Touches, window: Millis) -> Vec<GuideRecovery> {
    let Some(recovery) = touches.strategies.find(RECOVERY_STRATEGY) else { return Vec::new() };
    let mut guides: BTreeMap<&str, GuideRecovery> = BTreeMap::new();
    let tasks: Vec<_> = touches
        .recs
        .iter()
        .filter(|r| {
            r.strategy == recovery
                && r.kind == Kind::Sent
                && r.action == ActionKind::StaffTask
                && r.group.is_some()
                && r.extra != u32::MAX
        })
        .collect();
    for task in &tasks {
        let guide = touches.extras[task.extra as usize].guide.as_str();
        let row =
            guides.entry(guide).or_insert_with(|| GuideRecovery { guide_id: guide.to_string(), ..Default::default() });
        row.tasks = row.tasks.saturating_add(1);
    }
    // `recs` is sorted by member, then instant: one member's tasks are together.
    let mut credited: FxHashSet<(u32, &str)> = FxHashSet::default();
    for (i, task) in tasks.iter().enumerate() {
        if i > 0 && tasks[i - 1].member == task.member {
            continue;
        }
        let own: Vec<_> = tasks[i..].iter().take_while(|t| t.member == task.member).collect();
        let orders = base.orders_as_of(task.member, Millis::MAX);
        let orders = &orders[orders.partition_point(|o| o.at <= task.at)..];
        for o in orders {
            let Some(last) = own.iter().rev().find(|t| within(t.at, o.at, window)) else { continue };
            let guide = touches.extras[last.extra as usize].guide.as_str();
            let row = guides.get_mut(guide).expect("every task's guide has a row");
            row.orders = row.orders.saturating_add(1);
            row.revenue_fen = row.revenue_fen.saturating_add(o.amount);
            if credited.insert((task.member, guide)) {
                row.members_ordered = row.members_ordered.saturating_add(1);
            }
        }
    }
    let mut rows: Vec<GuideRecovery> = guides.into_values().collect();
    rows.sort_by(|a, b| b.revenue_fen.cmp(&a.revenue_fen).then_with(|| a.guide_id.cmp(&b.guide_id)));
    rows
}
