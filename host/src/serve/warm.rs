//! The warm runner state between runs and firing passes, kept current as
//! records come in over the API: events and orders that only add go into
//! its member base in place (a WeCom add into its day index too); anything
//! else (a member, a changed record) marks it stale, to be read from the
//! store again by the next run or pass. At a million members that read
//! takes a minute: a steady stream of orders and events must never cause it.
//!
//! While a run or a firing pass has the state lent ([`super::runs::WarmSlot`]),
//! what comes in is kept ([`Unapplied`]) and added when the state is next
//! lent — a pass must not find the base stale because events came in
//! meanwhile, or at 1,000 events a second every pass would read the store.

use std::sync::atomic::Ordering;

use super::runs::Loan;
use super::Canvas;
use crate::member_base::NotInPlace;
use crate::model::{Event, Order};
use crate::runner::RunnerState;
use crate::strategy::{kept_kinds, Strategy};

/// Records kept for the state a run has lent, at most; past that the state
/// is read from the store again instead.
const MAX_UNAPPLIED: usize = 1_000_000;

/// Events and orders that came in while the state was lent.
#[derive(Default)]
pub(crate) struct Unapplied {
    events: Vec<Event>,
    orders: Vec<Order>,
}

impl Unapplied {
    fn len(&self) -> usize {
        self.events.len() + self.orders.len()
    }
}

impl Canvas {
    /// Events just imported over the API (`changed`: the import changed
    /// records it had, not only added).
    pub(crate) fn events_ingested_into_base(&self, events: &[Event], changed: bool) {
        if changed {
            self.data_changed();
        } else {
            self.add_to_warm_base(events, &[]);
        }
    }

    /// Orders just imported over the API, as [`Canvas::events_ingested_into_base`].
    pub(crate) fn orders_ingested(&self, orders: &[Order], changed: bool) {
        if changed {
            self.data_changed();
        } else {
            self.add_to_warm_base(&[], orders);
        }
    }

    /// Into the warm state where it is; while it is lent, kept for the next
    /// one to add ([`Canvas::lend_state`]).
    fn add_to_warm_base(&self, events: &[Event], orders: &[Order]) {
        let generation = self.data_generation.load(Ordering::SeqCst);
        let mut unapplied = self.unapplied.lock().expect("never held across a panic");
        let mut refused = None;
        let there = self.warm.update(|(built_from, state)| {
            if *built_from == generation {
                refused = add_new(state, events, orders).err();
            }
            true
        });
        if let Some(NotInPlace(why)) = refused {
            tracing::info!(%why, "the member base is read again at the next run");
            self.data_changed();
        } else if !there {
            if unapplied.len() + events.len() + orders.len() > MAX_UNAPPLIED {
                // A long run meanwhile: the next reads the store instead.
                *unapplied = Unapplied::default();
                self.data_changed();
            } else {
                unapplied.events.extend_from_slice(events);
                unapplied.orders.extend_from_slice(orders);
            }
        }
    }

    /// At shutdown, the warm member base saved as the snapshot the next
    /// start reads, when it is current with nothing left to add: the orders
    /// and events ingested into it since the last snapshot made that one
    /// stale, and without this a restart would read the whole store.
    pub(crate) fn save_warm_base(&self) {
        let generation = self.data_generation.load(Ordering::SeqCst);
        if self.unapplied.lock().expect("never held across a panic").len() > 0 {
            return;
        }
        self.warm.update(|(built_from, state)| {
            if *built_from == generation {
                if let Err(e) = crate::app::save_member_base(&self.store, &state.base) {
                    tracing::warn!("{e:#}: the member base's snapshot is not saved; the next start reads the store");
                }
            }
            false
        });
    }

    /// The runner state for a run or a firing pass of `strategies`, which
    /// is now the latest: the warm one if nothing since made it stale and it
    /// keeps the event kinds they read (a plugin installed, enabled or
    /// reconfigured may read more), else read from the store; either way
    /// with what came in while it was lent added.
    pub(crate) fn lend_state(&self, strategies: &[Strategy]) -> anyhow::Result<(Loan, u64, RunnerState)> {
        // Read before the data: an ingest landing during the load makes it stale.
        let generation = self.data_generation.load(Ordering::SeqCst);
        let (loan, warm) = self.warm.lend();
        let mut state = match warm {
            Some((built_from, state))
                if built_from == generation && state.base.kept().covers(&kept_kinds(strategies)) =>
            {
                state
            }
            Some((_, stale)) => {
                stale.drop_in_background();
                self.load_runner_state(strategies)?
            }
            None => self.load_runner_state(strategies)?,
        };
        let Unapplied { events, orders } =
            std::mem::take(&mut *self.unapplied.lock().expect("never held across a panic"));
        if let Err(NotInPlace(why)) = add_new(&mut state, &events, &orders) {
            tracing::info!(%why, "the member base is read again");
            state = self.load_runner_state(strategies)?;
        }
        Ok((loan, generation, state))
    }

    /// Puts a run's or a pass's state back, with what came in while it was
    /// lent added: a preview or the results read it as it stands.
    pub(crate) fn give_back_state(&self, loan: Loan, generation: u64, mut state: RunnerState) {
        // Held until the state is back: an ingest meanwhile waits, then adds to it in place.
        let mut unapplied = self.unapplied.lock().expect("never held across a panic");
        let Unapplied { events, orders } = std::mem::take(&mut *unapplied);
        if let Err(NotInPlace(why)) = add_new(&mut state, &events, &orders) {
            tracing::info!(%why, "the member base is read again at the next run");
            self.data_changed();
        }
        if let Err((_, (_, stale))) = self.warm.give_back(loan, (generation, state)) {
            stale.drop_in_background();
        }
    }

    /// The member base and the decisions so far, read from the store.
    fn load_runner_state(&self, strategies: &[Strategy]) -> anyhow::Result<RunnerState> {
        let loading = std::time::Instant::now();
        let state = self.app.stored_runner_state(&self.store, strategies)?;
        let seconds = loading.elapsed().as_secs_f64();
        tracing::info!(members = state.base.len(), seconds, "member base loaded");
        Ok(state)
    }
}

/// Adds to the state's member base the events and orders it does not have
/// yet: an event by its id, an order as [`crate::member_base::MemberBase::add_orders`]
/// tells (one read from the store, or sent twice, is there once).
fn add_new(state: &mut RunnerState, events: &[Event], orders: &[Order]) -> Result<(), NotInPlace> {
    let base = &mut state.base;
    let new: Vec<Event> = events.iter().filter(|e| !base.has_event(e)).cloned().collect();
    base.add_events(new);
    base.add_orders(orders)
}
