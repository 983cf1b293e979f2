//! The member base of the store's own records, kept as a snapshot beside
//! the store: a start reads the snapshot when no import changed a record
//! since it was saved, and adds the events the host recorded after it (the
//! coupons of the runs since) in place; otherwise it reads the store, the
//! store of record, and saves the snapshot anew. A snapshot that cannot be
//! read is said in the log and the store read instead: it never stops a run.

use std::path::Path;

use rustc_hash::FxHashSet;

use super::App;
use crate::calendar::BrandCalendar;
use crate::member_base::{snapshot, EventPart, EventReader, MemberBase};
use crate::store::{RecordsMark, Store};

/// The snapshot's file in the store's folder.
pub const SNAPSHOT_FILE: &str = "member-base.snapshot";
/// Events added to a snapshot on reading it beyond which it is saved again,
/// so a start adds at most about so many.
const RESAVE_AFTER_EVENTS: usize = 100_000;

impl App {
    /// The member base of `store`'s records, from its snapshot when current.
    pub fn stored_member_base(&self, store: &Store) -> anyhow::Result<MemberBase> {
        stored_member_base(store, self.calendar())
    }
}

/// The member base of `store`'s records in `calendar`, from its snapshot
/// when current (what [`App::stored_member_base`] does, without an app).
pub fn stored_member_base(store: &Store, calendar: BrandCalendar) -> anyhow::Result<MemberBase> {
    let path = store.path().join(SNAPSHOT_FILE);
    match from_snapshot(store, &path, calendar) {
        Ok(Some(base)) => return Ok(base),
        Ok(None) => {}
        Err(e) => tracing::warn!("{e:#}; the member base is read from the store instead"),
    }
    let mark = store.records_mark()?;
    let records = store.read_records()?;
    let read_events = |reader: &EventReader<'_>| records.events(EventPart::default, |part, e| reader.add(part, e));
    let base = MemberBase::build_with(calendar, records.all_but_events()?, read_events)?;
    drop(records);
    if let Some(mark) = mark {
        save(&path, &mark, &base);
    }
    Ok(base)
}

fn from_snapshot(store: &Store, path: &Path, calendar: BrandCalendar) -> anyhow::Result<Option<MemberBase>> {
    let Some((mark, mut base)) = snapshot::load::<RecordsMark>(path, calendar)? else { return Ok(None) };
    let Some((events, now)) = store.events_recorded_since(&mark)? else { return Ok(None) };
    let added = events.len();
    // A page written again after a crash repeats events, maybe ones the snapshot has.
    let mut seen = FxHashSet::default();
    let new: Vec<_> = events.into_iter().filter(|e| !base.has_event(e) && seen.insert(e.id.clone())).collect();
    base.add_events(new);
    if added > RESAVE_AFTER_EVENTS {
        save(path, &now, &base);
    }
    Ok(Some(base))
}

/// Saves `base`, which holds what `store` holds now, as the snapshot,
/// unless the one there is as current (saved at the store's present mark).
pub fn save_member_base(store: &Store, base: &MemberBase) -> anyhow::Result<()> {
    let Some(mark) = store.records_mark()? else { return Ok(()) };
    let path = store.path().join(SNAPSHOT_FILE);
    if snapshot::saved_mark::<RecordsMark>(&path).as_ref() != Some(&mark) {
        save(&path, &mark, base);
    }
    Ok(())
}

/// Saves the snapshot; a failure only costs the next start its speed.
fn save(path: &Path, mark: &RecordsMark, base: &MemberBase) {
    if let Err(e) = snapshot::save(path, mark, base) {
        tracing::warn!("{e:#}: the next start reads the store");
    }
}
