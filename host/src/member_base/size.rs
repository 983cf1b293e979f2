//! What the member base takes in memory, counted from its vectors'
//! capacities and its strings: the benchmark's figure for the base alone,
//! apart from the allocator's free pages and whatever else a process holds.
//! Hash maps are counted as their entries plus a control byte each, at the
//! capacity they have grown to.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::mem::size_of;

use super::*;

impl MemberBase {
    /// Bytes on the heap the base holds (approximately: allocator rounding
    /// not counted).
    pub fn heap_bytes(&self) -> usize {
        let members: usize = self.members.capacity() * size_of::<MemberRow>()
            + self.members.iter().map(|r| member_strings(&r.member)).sum::<usize>();
        let index = map_bytes(&self.index) + self.index.keys().map(String::capacity).sum::<usize>();
        let zones = map_bytes(&self.own_zones) + self.own_zones.keys().map(String::capacity).sum::<usize>();
        let orders = vec_bytes(&self.order_rows) + vec_bytes(&self.order_start);
        let events = vec_bytes(&self.events) + self.events.iter().map(vec_bytes).sum::<usize>();
        let day_indexes = [&self.by_joined_day, &self.by_wecom_day, &self.by_order_day, &self.by_first_order_day]
            .into_iter()
            .chain(&self.by_first_order_in_category)
            .map(|d| vec_bytes(&d.0))
            .sum::<usize>()
            + self.by_birth_month.iter().map(vec_bytes).sum::<usize>();
        let by_kind = map_bytes(&self.events_by_kind)
            + self.events_by_kind.iter().map(|(k, v)| k.capacity() + vec_bytes(v)).sum::<usize>();
        let products = vec_bytes(&self.products)
            + self.products.iter().map(|p| p.product.sku.capacity() + p.product.name.capacity()).sum::<usize>();
        let guides = map_bytes(&self.guides);
        members
            + index
            + zones
            + orders
            + events
            + self.event_text.heap_bytes()
            + day_indexes
            + by_kind
            + products
            + guides
    }
}

fn member_strings(m: &Member) -> usize {
    m.id.capacity()
        + m.name.capacity()
        + m.store_id.capacity()
        + m.guide_id.capacity()
        + m.tz.as_ref().map_or(0, String::capacity)
}

pub(super) fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * size_of::<T>()
}

pub(super) fn map_bytes<K, V, S: BuildHasher>(map: &HashMap<K, V, S>) -> usize {
    map.capacity() * (size_of::<(K, V)>() + 1)
}
