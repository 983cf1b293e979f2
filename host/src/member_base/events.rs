//! Members' events, compact: a brand's tens of millions of events are most
//! of the member base, and three strings each (id, kind, attributes) made
//! them ~190 bytes an event. A row here is 24 bytes: the instant, the day,
//! one number for what happened (its kind and attributes, interned: a
//! brand's events repeat a few hundred `{"sku":…}` and five `{"page":…}`
//! over and over) and where its id sits in one text of all the ids.
//!
//! Readers see an [`EventView`] with the strings back as `&str`.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::size::{map_bytes, vec_bytes};
use super::{EventsByKind, KeptKinds};
use crate::calendar::BrandCalendar;
use crate::model::{Day, EventRef, Millis};

/// An event as the member base keeps it; read it through [`EventsOf`].
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(super) struct EventRow {
    pub(super) at: Millis,
    /// Where the id is in [`EventText::ids`]: offset << 24 | length.
    id: u64,
    pub(super) day: Day,
    /// Index into [`EventText::details`].
    what: u32,
}

/// An id's place in [`EventText::ids`]: offset << 24 | length.
fn id_ref(offset: u64, len: usize) -> u64 {
    assert!(len < 1 << 24 && offset < 1 << 40, "event ids beyond the member base's 1 TB of id text");
    offset << 24 | len as u64
}

/// Events read into rows by one reader (a range of the store's keys, on a
/// core of its own), with its own text; [`join`] makes one base's of them.
#[derive(Default)]
pub struct EventPart {
    text: EventText,
    /// Each row with its member.
    rows: Vec<(u32, EventRow)>,
}

/// What reading events into parts needs: the members' numbers, the calendar.
pub struct EventReader<'a> {
    pub(super) index: &'a FxHashMap<String, u32>,
    pub(super) calendar: &'a BrandCalendar,
    pub(super) kept: &'a KeptKinds,
}

impl EventReader<'_> {
    /// Adds `event` to `part`; one of a kind the base does not keep is left
    /// out, and so is one of an unknown member (the store never holds any;
    /// imports refuse them).
    pub fn add(&self, part: &mut EventPart, event: EventRef<'_>) {
        if !self.kept.keeps(event.kind) {
            return;
        }
        let Some(&m) = self.index.get(event.member_id) else { return };
        let day = self.calendar.day_of(event.at);
        let row = part.text.row(event.id, event.kind, event.at, day, event.attrs);
        part.rows.push((m, row));
    }
}

/// Every member's events of `parts` in one text, each member's oldest
/// first (ties: by event id; the same id too: in the parts' order), and per
/// kind each event's (instant, member) in time order.
pub(super) fn join(parts: Vec<EventPart>, members: usize) -> (Vec<Vec<EventRow>>, EventText, EventsByKind) {
    let mut counts = vec![0usize; members];
    for (m, _) in parts.iter().flat_map(|part| &part.rows) {
        counts[*m as usize] += 1;
    }
    let mut events: Vec<Vec<EventRow>> = counts.into_iter().map(Vec::with_capacity).collect();
    let mut text = EventText::default();
    for part in parts {
        let (shift, at_here) = text.absorb(part.text);
        for (m, mut row) in part.rows {
            row.id += shift;
            row.what = at_here[row.what as usize];
            events[m as usize].push(row);
        }
    }
    // Each member's few events on their own: one sort of tens of millions
    // would need scratch memory for all and compare events of different
    // members, whose order does not matter.
    for of_member in &mut events {
        of_member.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| text.id_of(a).cmp(text.id_of(b))));
    }
    let mut by_kind: Vec<Vec<(Millis, u32)>> = vec![Vec::new(); text.kinds.len()];
    for (m, rows) in events.iter().enumerate() {
        for row in rows {
            by_kind[text.kind_of(row) as usize].push((row.at, m as u32));
        }
    }
    let by_kind = by_kind
        .into_iter()
        .zip(&text.kinds)
        .map(|(mut entries, kind)| {
            entries.sort_unstable();
            (kind.to_string(), entries)
        })
        .collect();
    (events, text, by_kind)
}

/// An event of a member's, imported or produced by a run (a coupon issued).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventView<'a> {
    /// The event's id: breaks ties between a member's events at one instant.
    pub id: &'a str,
    /// What happened, e.g. `coupon_issued`, `mini_program_visit`.
    pub kind: &'a str,
    /// When it happened.
    pub at: Millis,
    /// The brand-local day it happened on.
    pub day: Day,
    /// Its details, a compact JSON object.
    pub attrs: &'a str,
}

/// The strings behind the base's event rows. The indexes are not saved in
/// a snapshot: [`EventText::reindex`] makes them again.
#[derive(Clone, Default, Serialize, Deserialize)]
pub(super) struct EventText {
    /// Every event's id, one after another.
    ids: String,
    kinds: Vec<Box<str>>,
    #[serde(skip)]
    kind_index: FxHashMap<Box<str>, u32>,
    /// (kind, attributes) of each distinct pair.
    #[serde(deserialize_with = "super::snapshot::exact::vec")]
    details: Vec<(u32, Arc<str>)>,
    /// Per kind, attributes → index into `details`.
    #[serde(skip)]
    detail_index: Vec<FxHashMap<Arc<str>, u32>>,
}

impl EventText {
    /// The indexes of kinds and details, from the lists.
    pub(super) fn reindex(&mut self) {
        self.kind_index = self.kinds.iter().enumerate().map(|(k, kind)| (kind.clone(), k as u32)).collect();
        self.detail_index = vec![FxHashMap::default(); self.kinds.len()];
        for (w, (kind, attrs)) in self.details.iter().enumerate() {
            self.detail_index[*kind as usize].insert(attrs.clone(), w as u32);
        }
    }

    /// How many distinct (kind, attributes) there are.
    #[cfg(test)]
    pub(super) fn details_len(&self) -> usize {
        self.details.len()
    }

    /// A row for an event, its strings interned.
    pub(super) fn row(&mut self, id: &str, kind: &str, at: Millis, day: Day, attrs: &str) -> EventRow {
        let offset = self.ids.len() as u64;
        self.ids.push_str(id);
        EventRow { at, id: id_ref(offset, id.len()), day, what: self.detail(kind, attrs) }
    }

    /// The index of (kind, attrs) in `details`, added if new.
    fn detail(&mut self, kind: &str, attrs: &str) -> u32 {
        let kind = match self.kind_index.get(kind) {
            Some(&k) => k,
            None => {
                let k = self.kinds.len() as u32;
                self.kinds.push(kind.into());
                self.kind_index.insert(kind.into(), k);
                self.detail_index.push(FxHashMap::default());
                k
            }
        };
        match self.detail_index[kind as usize].get(attrs) {
            Some(&w) => w,
            None => {
                let w = u32::try_from(self.details.len()).expect("fewer than 4 billion distinct event details");
                let attrs: Arc<str> = attrs.into();
                self.details.push((kind, attrs.clone()));
                self.detail_index[kind as usize].insert(attrs, w);
                w
            }
        }
    }

    /// Takes `other`'s ids and details in; returns what its rows' id
    /// references shift by and where each of its details is here.
    fn absorb(&mut self, other: EventText) -> (u64, Vec<u32>) {
        let shift = id_ref(self.ids.len() as u64, 0);
        self.ids.push_str(&other.ids);
        // Its last id must still be addressable here.
        id_ref(self.ids.len() as u64, 0);
        let at_here =
            other.details.iter().map(|(kind, attrs)| self.detail(&other.kinds[*kind as usize], attrs)).collect();
        (shift, at_here)
    }

    /// The kind's number of a row (an index into the kinds).
    fn kind_of(&self, row: &EventRow) -> u32 {
        self.details[row.what as usize].0
    }

    /// Bytes on the heap (see `size.rs`).
    pub(super) fn heap_bytes(&self) -> usize {
        // An Arc<str>'s allocation: two counts and the text.
        let details = vec_bytes(&self.details) + self.details.iter().map(|(_, a)| 16 + a.len()).sum::<usize>();
        let kinds = vec_bytes(&self.kinds)
            + map_bytes(&self.kind_index)
            + 2 * self.kinds.iter().map(|k| k.len()).sum::<usize>();
        self.ids.capacity() + details + kinds + self.detail_index.iter().map(map_bytes).sum::<usize>()
    }

    /// The row's event id.
    pub(super) fn id_of(&self, row: &EventRow) -> &str {
        let (offset, len) = ((row.id >> 24) as usize, (row.id & 0xFF_FFFF) as usize);
        &self.ids[offset..offset + len]
    }

    fn view(&self, row: &EventRow) -> EventView<'_> {
        let (kind, attrs) = &self.details[row.what as usize];
        EventView { id: self.id_of(row), kind: &self.kinds[*kind as usize], at: row.at, day: row.day, attrs }
    }
}

/// A member's events up to some instant, oldest first.
#[derive(Clone, Copy)]
pub struct EventsOf<'a> {
    pub(super) rows: &'a [EventRow],
    pub(super) text: &'a EventText,
}

impl<'a> EventsOf<'a> {
    /// How many there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Those at `from` or later.
    pub fn since(self, from: Millis) -> Self {
        EventsOf { rows: &self.rows[self.rows.partition_point(|e| e.at < from)..], text: self.text }
    }

    /// Each event, oldest first (`.rev()` for newest first).
    pub fn iter(&self) -> EventIter<'a> {
        EventIter { rows: self.rows.iter(), text: self.text }
    }
}

impl<'a> IntoIterator for EventsOf<'a> {
    type Item = EventView<'a>;
    type IntoIter = EventIter<'a>;

    fn into_iter(self) -> EventIter<'a> {
        self.iter()
    }
}

/// The iterator of [`EventsOf::iter`].
pub struct EventIter<'a> {
    rows: std::slice::Iter<'a, EventRow>,
    text: &'a EventText,
}

impl<'a> Iterator for EventIter<'a> {
    type Item = EventView<'a>;

    fn next(&mut self) -> Option<EventView<'a>> {
        self.rows.next().map(|row| self.text.view(row))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}

impl DoubleEndedIterator for EventIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.rows.next_back().map(|row| self.text.view(row))
    }
}

impl ExactSizeIterator for EventIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parts read side by side join as one: details interned once, each
    /// member's events in time order then by id, whichever part had them.
    #[test]
    fn parts_join_into_one_text_with_each_members_events_in_order() {
        let index: FxHashMap<String, u32> = [("A".to_string(), 0), ("B".to_string(), 1)].into_iter().collect();
        let calendar = BrandCalendar::default();
        let reader = EventReader { index: &index, calendar: &calendar, kept: &KeptKinds::Every };
        let event = |id, member_id, kind, at| EventRef { id, member_id, kind, at, attrs: "{}" };
        let (mut first, mut second) = (EventPart::default(), EventPart::default());
        reader.add(&mut first, event("e9", "A", "visit", 30));
        reader.add(&mut first, event("e5", "B", "view", 10));
        reader.add(&mut second, event("e1", "A", "visit", 30));
        reader.add(&mut second, event("e3", "nobody", "visit", 5));
        reader.add(&mut second, event("e2", "A", "view", 20));

        let (events, text, by_kind) = join(vec![first, second], 2);
        let of =
            |m: usize| EventsOf { rows: &events[m], text: &text }.iter().map(|e| (e.id, e.kind)).collect::<Vec<_>>();
        assert_eq!(of(0), [("e2", "view"), ("e1", "visit"), ("e9", "visit")]);
        assert_eq!(of(1), [("e5", "view")]);
        assert_eq!(text.details.len(), 2, "visit {{}} and view {{}}, once each");
        assert_eq!(by_kind["visit"], [(30, 0), (30, 0)]);
        assert_eq!(by_kind["view"], [(10, 1), (20, 0)]);
    }

    #[test]
    fn a_row_gives_back_the_strings_it_was_made_of_and_repeated_details_are_stored_once() {
        let mut text = EventText::default();
        let rows = [
            text.row("E1", "product_view", 10, 1, r#"{"sku":"A"}"#),
            text.row("E2", "product_view", 20, 1, r#"{"sku":"A"}"#),
            text.row("E3", "mini_program_visit", 30, 2, r#"{"sku":"A"}"#),
            text.row("", "product_view", 40, 3, "{}"),
        ];
        assert_eq!(std::mem::size_of::<EventRow>(), 24);
        assert_eq!(text.details.len(), 3, "the same attributes of another kind are another detail");
        let events = EventsOf { rows: &rows, text: &text };
        let seen: Vec<_> = events.iter().map(|e| (e.id, e.kind, e.at, e.day, e.attrs)).collect();
        assert_eq!(
            seen,
            [
                ("E1", "product_view", 10, 1, r#"{"sku":"A"}"#),
                ("E2", "product_view", 20, 1, r#"{"sku":"A"}"#),
                ("E3", "mini_program_visit", 30, 2, r#"{"sku":"A"}"#),
                ("", "product_view", 40, 3, "{}"),
            ]
        );
        assert_eq!(events.since(20).iter().next().map(|e| e.id), Some("E2"));
        assert_eq!(events.iter().next_back().map(|e| e.at), Some(40));
    }
}
