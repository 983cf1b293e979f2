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
use crate::model::{Day, Millis};

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
        assert!(id.len() < 1 << 24 && offset < 1 << 40, "event ids beyond the member base's 1 TB of id text");
        let id = offset << 24 | id.len() as u64;
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
        let what = match self.detail_index[kind as usize].get(attrs) {
            Some(&w) => w,
            None => {
                let w = u32::try_from(self.details.len()).expect("fewer than 4 billion distinct event details");
                let attrs: Arc<str> = attrs.into();
                self.details.push((kind, attrs.clone()));
                self.detail_index[kind as usize].insert(attrs, w);
                w
            }
        };
        EventRow { at, id, day, what }
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
