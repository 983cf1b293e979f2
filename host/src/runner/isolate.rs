//! Deciding one batch, and when the plugin fails on it, finding whom it
//! fails on: the batch is split in halves, and halves that fail are split
//! again, down to single members. A member the plugin fails on alone gets a
//! `failed` decision with the reason; everyone else in the batch is decided.
//! One member whose facts break a plugin therefore costs about two calls
//! per halving (ten for a batch of 500), not the run.
//!
//! A plugin that fails on everyone would be split down to every member, so
//! the run stops isolating after `[sandbox] failed_members` members have
//! failed and is itself failed; what was decided before stands. A call cut
//! because the host is shutting down is never isolated: the run stops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::calendar::RunClock;
use crate::model::ActionKind;
use crate::runtime::proposals::{failed, proposals_from, Proposals, NO_STEP};
use crate::runtime::{api, LoadedPlugin, PluginError};

/// What one strategy's batches are decided with, shared by the threads
/// deciding them.
pub(super) struct BatchDecider<'a> {
    pub plugin: &'a LoadedPlugin,
    pub context: &'a api::RunContext,
    pub clock: RunClock,
    pub period: &'a str,
    /// Members the plugin has failed on in this run, over all its batches.
    pub failed_members: &'a AtomicU64,
}

/// What deciding a batch gave, isolating included.
#[derive(Default)]
pub(super) struct Decided {
    pub proposals: Proposals,
    pub fuel: u64,
    /// Time in plugin calls.
    pub calls: Duration,
}

impl BatchDecider<'_> {
    /// Decides `members` into `out`. `Err` fails the run: the host is
    /// shutting down, or the plugin failed on more members than allowed.
    pub fn decide(&self, members: &[api::Member], out: &mut Decided) -> Result<(), PluginError> {
        let started = Instant::now();
        let answer = self.plugin.decide(self.context, members).and_then(|(touches, stats)| {
            out.fuel += stats.fuel_used;
            proposals_from(self.plugin, self.clock, self.period, members, touches)
        });
        out.calls += started.elapsed();
        let error = match answer {
            Ok(proposals) => {
                out.proposals.proposed.extend(proposals.proposed);
                out.proposals.failed.extend(proposals.failed);
                return Ok(());
            }
            Err(error @ PluginError::Cancelled { .. }) => return Err(error),
            Err(error) => error,
        };
        let limit = self.plugin.limits().failed_members;
        if let [member] = members {
            let failed_so_far = self.failed_members.fetch_add(1, Ordering::SeqCst) + 1;
            if failed_so_far > limit {
                return Err(self.too_many(limit, error));
            }
            let id = &member.profile.id;
            let reason = error.to_string();
            let failure = failed(self.plugin, self.clock, self.period, id, NO_STEP, ActionKind::Message, reason);
            out.proposals.failed.push(failure);
            return Ok(());
        }
        if self.failed_members.load(Ordering::SeqCst) >= limit {
            return Err(self.too_many(limit, error));
        }
        let (first, second) = members.split_at(members.len() / 2);
        self.decide(first, out)?;
        self.decide(second, out)
    }

    fn too_many(&self, limit: u64, last: PluginError) -> PluginError {
        if limit == 0 {
            return last;
        }
        PluginError::TooManyFailedMembers { plugin: self.plugin.label(), limit, last: Box::new(last) }
    }
}
