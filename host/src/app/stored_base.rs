//! The member base of the store's own records, kept as a snapshot beside
//! the store: a start reads the snapshot when no import changed a record
//! since it was saved, and adds the events the host recorded after it (the
//! coupons of the runs since) in place; otherwise it reads the store, the
//! store of record, and saves the snapshot anew. A snapshot that cannot be
//! read is said in the log and the store read instead: it never stops a run.
//!
//! The base keeps only the event kinds its readers need ([`KeptKinds`]): a
//! run's strategies name theirs ([`KindsWanted::Run`]); a snapshot that
//! keeps them (or more) serves, one without them is read from the store
//! again with exactly the run's. Results and previews need only some
//! ([`KindsWanted::AtLeast`]): any snapshot keeping those serves, and read
//! from the store the base keeps the last snapshot's kinds too, so the next
//! run does not read the store a second time.

use std::path::Path;

use rustc_hash::FxHashSet;

use super::App;
use crate::calendar::BrandCalendar;
use crate::member_base::{snapshot, EventPart, EventReader, KeptKinds, MemberBase};
use crate::store::{RecordsMark, Store};

/// The snapshot's file in the store's folder.
pub const SNAPSHOT_FILE: &str = "member-base.snapshot";
/// Events added to a snapshot on reading it beyond which it is saved again,
/// so a start adds at most about so many.
const RESAVE_AFTER_EVENTS: usize = 100_000;

/// The event kinds a member base read from the store is to keep.
#[derive(Clone, Copy, Debug)]
pub enum KindsWanted<'a> {
    /// A run's strategies': read from the store, the base keeps exactly
    /// these (a snapshot keeping more serves as it is).
    Run(&'a KeptKinds),
    /// A reader's that needs these and no more (results, a preview): read
    /// from the store, the base keeps the last snapshot's kinds too.
    AtLeast(&'a KeptKinds),
}

impl KindsWanted<'_> {
    fn kinds(&self) -> &KeptKinds {
        match self {
            KindsWanted::Run(kinds) | KindsWanted::AtLeast(kinds) => kinds,
        }
    }
}

impl App {
    /// The member base of `store`'s records, from its snapshot when current.
    pub fn stored_member_base(&self, store: &Store, wanted: KindsWanted<'_>) -> anyhow::Result<MemberBase> {
        stored_member_base(store, self.calendar(), wanted)
    }
}

/// The member base of `store`'s records in `calendar`, from its snapshot
/// when current and keeping the kinds wanted (what
/// [`App::stored_member_base`] does, without an app).
pub fn stored_member_base(
    store: &Store,
    calendar: BrandCalendar,
    wanted: KindsWanted<'_>,
) -> anyhow::Result<MemberBase> {
    let path = store.path().join(SNAPSHOT_FILE);
    let saved_kinds = snapshot::saved_mark::<RecordsMark>(&path).map(|(_, kinds)| kinds);
    match &saved_kinds {
        Some(saved) if !saved.covers(wanted.kinds()) => {
            let missing = match wanted.kinds() {
                KeptKinds::Every => "every kind".to_string(),
                KeptKinds::Only(kinds) => saved.missing(kinds.iter().map(String::as_str)).join(", "),
            };
            tracing::info!(%missing, "the member base's snapshot keeps none of these event kinds: it is read from the store");
        }
        _ => match from_snapshot(store, &path, calendar) {
            Ok(Some(base)) => return Ok(base),
            Ok(None) => {}
            Err(e) => tracing::warn!("{e:#}; the member base is read from the store instead"),
        },
    }
    let kept = match (wanted, saved_kinds) {
        (KindsWanted::AtLeast(kinds), Some(saved)) => kinds.clone().union(&saved),
        _ => wanted.kinds().clone(),
    };
    let mark = store.records_mark()?;
    let records = store.read_records()?;
    let read_events = |reader: &EventReader<'_>| records.events(EventPart::default, |part, e| reader.add(part, e));
    let base = MemberBase::build_with(calendar, records.all_but_events()?, kept, read_events)?;
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
/// unless the one there is as current (saved at the store's present mark,
/// keeping the same kinds).
pub fn save_member_base(store: &Store, base: &MemberBase) -> anyhow::Result<()> {
    let Some(mark) = store.records_mark()? else { return Ok(()) };
    let path = store.path().join(SNAPSHOT_FILE);
    if snapshot::saved_mark::<RecordsMark>(&path) != Some((mark.clone(), base.kept().clone())) {
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
