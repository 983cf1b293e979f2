//! The guest's allocator: a bump allocator, on by default (feature
//! `bump-allocator`).
//!
//! The host calls every plugin function in a fresh instance that is dropped
//! after the call, so a batch's memory is given back with the instance, all
//! at once. Freeing piece by piece inside the call is wasted work: lifting a
//! batch of 500 members allocates some 10,000 strings (a guest allocation per
//! string is part of what dominates a plugin call, BENCHMARKS.md "What
//! dominates"), and a general-purpose allocator would keep books on each one
//! only for the instance to drop them all.
//! Here an allocation moves a pointer; freeing or growing the newest block
//! (a `Vec` being pushed to, a string being built) happens in place; other
//! frees are ignored until the call ends.
//!
//! The cost: memory freed mid-call is not reused, so a strategy that makes
//! much short-lived garbage per member uses more memory per batch (still far
//! below the 256 MiB cap for the shipped strategies). A plugin that needs its
//! own `#[global_allocator]` turns this off with `default-features = false`.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

const PAGE: usize = 65536;
/// Memory is asked of the host 1 MiB at a time at least.
const MIN_GROW_PAGES: usize = 16;

struct Bump {
    /// The next free byte and the end of the region being handed out.
    next: UnsafeCell<usize>,
    end: UnsafeCell<usize>,
}

// A component instance runs on one thread.
unsafe impl Sync for Bump {}

#[global_allocator]
static ALLOCATOR: Bump = Bump { next: UnsafeCell::new(0), end: UnsafeCell::new(0) };

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: a wasm guest is single-threaded and the allocator is never
        // re-entered, so these are the only references to the two cells.
        let (next, end) = unsafe { (&mut *self.next.get(), &mut *self.end.get()) };
        let align = layout.align();
        let mut start = (*next + align - 1) & !(align - 1);
        if *end == 0 || start + layout.size() > *end {
            let pages = (layout.size() + align).div_ceil(PAGE).max(MIN_GROW_PAGES);
            let previous = core::arch::wasm32::memory_grow(0, pages);
            if previous == usize::MAX {
                return core::ptr::null_mut(); // over the host's memory cap
            }
            let grown = previous * PAGE;
            if grown != *end {
                // Not right after our region (the first call, or libc grew
                // memory too): start afresh in the new pages.
                *next = grown;
            }
            *end = grown + pages * PAGE;
            start = (*next + align - 1) & !(align - 1);
        }
        *next = start + layout.size();
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`, the only reference to the cell.
        let next = unsafe { &mut *self.next.get() };
        if ptr as usize + layout.size() == *next {
            *next = ptr as usize;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `alloc`, the only references to the cells.
        let (next, end) = unsafe { (&mut *self.next.get(), *self.end.get()) };
        if ptr as usize + layout.size() == *next && ptr as usize + new_size <= end {
            *next = ptr as usize + new_size;
            return ptr;
        }
        // SAFETY: the caller promises `new_size`, rounded up to `layout`'s
        // alignment, does not overflow, as `GlobalAlloc::realloc` requires.
        let moved = unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, layout.align())) };
        if !moved.is_null() {
            // The old block is left behind: it is no longer the newest one.
            // SAFETY: both blocks are live and distinct, each at least this long.
            unsafe { core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size)) };
        }
        moved
    }
}
