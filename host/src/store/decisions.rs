//! The `decision_pages` tree: every decision, with its outbox entry as
//! first queued, in pages of whole members.
//!
//! Key: a page id (u64, big-endian, sled's generated ids, so pages read back
//! in the order they were written). Value: a page ([`super::ledger`]'s
//! format: LZ4 over postcard records with their offsets) of
//! [`Entry`]s, each a decision and, when it is to be sent, its outbox entry
//! ([`super::outbox`]). One insert per page of about [`RECORD_CHUNK`]
//! decisions: a member's decisions and their outbox entries land together or
//! not at all, and a busy day is written in seconds.
//!
//! Lookups (is a key decided, a member's decisions, what is due) go through
//! the in-memory [`Ledger`], built from the pages on first use and kept in
//! step on every write.

use std::sync::Arc;

use anyhow::Context;
use rustc_hash::FxHashSet;

use super::ledger::{self, Entry, EntryRef, Ledger, Page, Slot};
use super::outbox_entry::{OutboxState, Queued, QueuedState};
use super::Store;
use crate::decision_view::DecisionView;
use crate::model::{Decision, Millis};

/// What a decision that does not decode says.
const UNREADABLE: &str = "the store holds a decision this version cannot read";

/// Decisions per page when recording a run (whole members).
const RECORD_CHUNK: usize = 5_000;

/// Whether a run's decisions are queued in the outbox as they are recorded.
#[derive(Clone, Copy, Debug)]
pub enum Queue {
    /// No: the decisions are only recorded.
    Nothing,
    /// One entry for each decision that is to be sent (dispatched now or
    /// deferred), made from it while the pages are encoded, on every core.
    ToBeSent,
}

impl Store {
    /// Keeps the proposals (or decisions) whose `key` is not recorded yet,
    /// in order, handing each recorded one to `decided` first. In place: a
    /// busy day's proposals are hundreds of MB, not worth copying to drop a few.
    pub fn retain_undecided<T>(
        &self,
        proposals: &mut Vec<T>,
        key: impl Fn(&T) -> &str,
        mut decided: impl FnMut(&T),
    ) -> anyhow::Result<()> {
        self.with_ledger(|ledger| {
            proposals.retain(|d| {
                let recorded = ledger.contains(key(d));
                if recorded {
                    decided(d);
                }
                !recorded
            })
        })
    }

    /// Records the decisions of a run instant and their outbox entries, as
    /// pages of about [`RECORD_CHUNK`] decisions of whole members (see
    /// [`ledger`]): a member's decisions and their outbox entries land all
    /// together or not at all. A crash between two pages leaves some members
    /// recorded: running the instant again decides the others, as recorded
    /// keys are never decided twice. A key that exists already is kept as it was.
    pub fn record_decisions(&self, decisions: &[Decision], queue: Queue) -> anyhow::Result<()> {
        let queued = matches!(queue, Queue::ToBeSent);
        // Member by member, each member's in the order given. The governor
        // hands them over in member order already; sort only if not.
        let mut by_member: Vec<&Decision> = decisions.iter().collect();
        if !by_member.is_sorted_by(|a, b| a.member_id <= b.member_id) {
            by_member.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        }
        let mut guard = self.ledger_built()?;
        let ledger = guard.as_mut().expect("built above");
        ledger.reserve(by_member.len());
        let mut seen = FxHashSet::with_capacity_and_hasher(by_member.len(), Default::default());
        let mut pages: Vec<Vec<&Decision>> = vec![Vec::with_capacity(RECORD_CHUNK)];
        for (i, &d) in by_member.iter().enumerate() {
            let page = pages.last_mut().expect("there is always a page");
            if !ledger.contains(&d.key) && seen.insert(&d.key) {
                page.push(d);
            }
            let members_last = by_member.get(i + 1).is_none_or(|next| next.member_id != d.member_id);
            if members_last && page.len() >= RECORD_CHUNK {
                pages.push(Vec::with_capacity(RECORD_CHUNK));
            }
        }
        pages.retain(|page| !page.is_empty());
        let ids = pages.iter().map(|_| self.db.generate_id()).collect::<Result<Vec<u64>, _>>()?;
        // The indexes are kept in step on a thread of their own while the
        // pages are encoded (on every core, most of the work) and written in
        // order: the two take about as long, so neither waits for the other.
        // Should a write fail, the indexes are dropped and built again from
        // the pages.
        let written = std::thread::scope(|scope| {
            let indexing = scope.spawn(|| {
                for (&page, decisions) in ids.iter().zip(&pages) {
                    for (index, &d) in decisions.iter().enumerate() {
                        let pending_at = if queued { Queued::first_attempt_for(d) } else { None };
                        ledger.add(Slot { page, index: index as u32 }, [&d.key, &d.member_id, &d.channel], pending_at);
                    }
                }
            });
            let written = ledger::encode_pages(&pages, |&d| entry_of(d, queued)).and_then(|encoded| {
                for (page, bytes) in ids.iter().zip(encoded) {
                    self.decision_pages.insert(page.to_be_bytes(), bytes).context("recording decisions")?;
                }
                Ok(())
            });
            indexing.join().expect("indexing decisions does not panic");
            written
        });
        if written.is_err() {
            *guard = None;
        }
        written
    }

    /// The ledger, built from the pages on first use.
    fn ledger_built(&self) -> anyhow::Result<std::sync::MutexGuard<'_, Option<Ledger>>> {
        let mut guard = self.ledger.lock().expect("the ledger lock is never poisoned");
        if guard.is_none() {
            *guard = Some(self.build_ledger(|_| {})?);
        }
        Ok(guard)
    }

    /// Runs `f` on the ledger's indexes, built from the pages on first use.
    pub(super) fn with_ledger<R>(&self, f: impl FnOnce(&mut Ledger) -> R) -> anyhow::Result<R> {
        Ok(f(self.ledger_built()?.as_mut().expect("built on first use")))
    }

    /// Reads every page into the indexes, handing each decision to `each`.
    fn build_ledger(&self, mut each: impl FnMut(Decision)) -> anyhow::Result<Ledger> {
        let mut ledger = Ledger::default();
        for entry in self.decision_pages.iter() {
            let (page_key, bytes) = entry?;
            let page = page_id(&page_key)?;
            for (index, entry) in Page::decode(&bytes)?.all::<Entry>()?.into_iter().enumerate() {
                let d = &entry.decision;
                let pending_at = pending_as_queued(entry.queued.as_ref());
                ledger.add(Slot { page, index: index as u32 }, [&d.key, &d.member_id, &d.channel], pending_at);
                each(entry.decision);
            }
        }
        self.apply_outbox_updates(&mut ledger)?;
        Ok(ledger)
    }

    /// Brings the due index, built from the pages' copies of the outbox
    /// entries, to their states since: each update moves its entry from
    /// where the page's copy put it (its first attempt, `due_at`) to its
    /// next attempt, or out when it is no longer pending. Read in place, no
    /// map of every update: a delivered touch has one.
    fn apply_outbox_updates(&self, ledger: &mut Ledger) -> anyhow::Result<()> {
        for value in self.outbox_updates.iter().values() {
            let value = value?;
            let update = QueuedState::read(&value)?;
            let pending_at = (update.state == OutboxState::Pending).then_some(update.next_attempt_at);
            ledger.reschedule(update.due_at, update.key, update.channel, pending_at);
        }
        Ok(())
    }

    /// Every decision, read in place from the pages ([`DecisionView`]: no
    /// decision's strings copied) and handed to `each` a page at a time, in
    /// the order the pages were written. A runner's start reads them all,
    /// millions after weeks at a million members: one page decoded at a
    /// time, not all held at once (fresh memory, which the kernel zeroes,
    /// was most of that start), and the indexes built in the same pass, when
    /// they are not yet, on a thread of their own.
    pub fn each_decision_page(&self, mut each: impl FnMut(&[DecisionView<'_>])) -> anyhow::Result<()> {
        let mut ledger = self.ledger.lock().expect("the ledger lock is never poisoned");
        let building = ledger.is_none();
        let built = std::thread::scope(|scope| -> anyhow::Result<Option<Ledger>> {
            let (pages, received) = std::sync::mpsc::sync_channel::<Arc<(u64, Page)>>(4);
            let indexing = building.then(|| {
                scope.spawn(move || -> anyhow::Result<Ledger> {
                    let mut built = Ledger::default();
                    for page in received {
                        let (page, decoded) = &*page;
                        for index in 0..decoded.len() {
                            let (view, rest) = postcard::take_from_bytes::<DecisionView<'_>>(decoded.body(index)?)
                                .context(UNREADABLE)?;
                            let (queued, _) = postcard::take_from_bytes::<Option<Queued>>(rest).context(UNREADABLE)?;
                            let pending_at = pending_as_queued(queued.as_ref());
                            let slot = Slot { page: *page, index: index as u32 };
                            built.add(slot, [view.key, view.member_id, view.channel], pending_at);
                        }
                    }
                    Ok(built)
                })
            });
            let mut read = || -> anyhow::Result<()> {
                for entry in self.decision_pages.iter() {
                    let (page_key, bytes) = entry?;
                    let page = Arc::new((page_id(&page_key)?, Page::decode(&bytes)?));
                    let decoded = &page.1;
                    let views = (0..decoded.len())
                        .map(|index| {
                            let body = decoded.body(index)?;
                            Ok(postcard::take_from_bytes::<DecisionView<'_>>(body).context(UNREADABLE)?.0)
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    each(&views);
                    drop(views);
                    // Gone only if the indexing failed: its error is the one said.
                    if building && pages.send(page).is_err() {
                        break;
                    }
                }
                Ok(())
            };
            let read = read();
            drop(pages);
            let built = indexing.map(|thread| thread.join().expect("indexing decisions does not panic")).transpose()?;
            read?;
            Ok(built)
        })?;
        if let Some(mut built) = built {
            self.apply_outbox_updates(&mut built)?;
            *ledger = Some(built);
        }
        Ok(())
    }

    /// A page, decoded; the last one read is kept, as readers (the
    /// dispatcher, a member's history) tend to read one page many times.
    pub(super) fn page(&self, id: u64) -> anyhow::Result<Arc<Page>> {
        let mut last = self.last_page.lock().expect("the page cache lock is never poisoned");
        if let Some((cached, page)) = last.as_ref() {
            if *cached == id {
                return Ok(page.clone());
            }
        }
        let bytes =
            self.decision_pages.get(id.to_be_bytes())?.with_context(|| format!("decision page {id} is missing"))?;
        let page = Arc::new(Page::decode(&bytes)?);
        *last = Some((id, page.clone()));
        Ok(page)
    }

    pub(super) fn entry(&self, slot: Slot) -> anyhow::Result<Entry> {
        self.page(slot.page)?.get(slot.index as usize)
    }

    /// Every recorded entry, page by page.
    pub(super) fn entries(&self) -> impl Iterator<Item = anyhow::Result<Entry>> + '_ {
        self.decision_pages.iter().values().flat_map(|bytes| {
            let page = bytes.map_err(anyhow::Error::from).and_then(|b| Page::decode(&b)).and_then(|p| p.all::<Entry>());
            match page {
                Ok(entries) => entries.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            }
        })
    }

    /// A member's decisions, by every strategy, in key order.
    pub fn decisions_of_member(&self, member_id: &str) -> anyhow::Result<Vec<Decision>> {
        let mut slots = self.with_ledger(|ledger| ledger.of_member(member_id).to_vec())?;
        slots.sort();
        let mut found =
            slots.into_iter().map(|slot| Ok(self.entry(slot)?.decision)).collect::<anyhow::Result<Vec<_>>>()?;
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// The decision with this idempotency key, if one was recorded.
    pub fn decision(&self, key: &str) -> anyhow::Result<Option<Decision>> {
        let slot = self.with_ledger(|ledger| ledger.slot(key))?;
        slot.map(|slot| Ok(self.entry(slot)?.decision)).transpose()
    }

    /// All decisions, in key order.
    pub fn decisions(&self) -> anyhow::Result<Vec<Decision>> {
        let mut all = Vec::new();
        let mut ledger = self.ledger.lock().expect("the ledger lock is never poisoned");
        match ledger.as_ref() {
            Some(_) => {
                for entry in self.entries() {
                    all.push(entry?.decision);
                }
            }
            // A runner reads them all at its start: build the indexes in the same pass.
            None => *ledger = Some(self.build_ledger(|d| all.push(d))?),
        }
        drop(ledger);
        all.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        Ok(all)
    }
}

/// The next attempt of a decision's outbox entry as its page's copy has
/// it, while that is pending ([`Store::apply_outbox_updates`] brings it up to date).
fn pending_as_queued(queued: Option<&Queued>) -> Option<Millis> {
    queued.filter(|item| item.state == OutboxState::Pending).map(|item| item.next_attempt_at)
}

/// What a page holds of a decision: it, and its outbox entry if it is
/// `queued` and to be sent.
fn entry_of(decision: &Decision, queued: bool) -> EntryRef<'_> {
    EntryRef::new(decision, if queued { Queued::for_decision(decision) } else { None })
}

fn page_id(key: &[u8]) -> anyhow::Result<u64> {
    Ok(u64::from_be_bytes(key.try_into().context("a decision page with a malformed key")?))
}

impl Store {
    /// Every recorded decision once, page by page (not in key order), with
    /// its outbox entry's state now (`None`: never queued). For results,
    /// which read every decision once and need no order: no sort, no copy
    /// of the whole history.
    pub fn each_decision(&self, mut each: impl FnMut(&Decision, Option<OutboxState>)) -> anyhow::Result<()> {
        let updated = self.outbox_states()?;
        for entry in self.entries() {
            let entry = entry?;
            let state = updated.get(&entry.decision.key).copied().or(entry.queued.as_ref().map(|q| q.state));
            each(&entry.decision, state);
        }
        Ok(())
    }
}
