//! Work measured without a clock: a global allocator that counts, per thread,
//! the allocations made and the bytes they asked for, and the peak of live bytes.
//! Complexity tests run a parser on an input and on the input doubled and
//! require the work to grow at most linearly ([`assert_linear`]).
//!
//! A test binary installs it at its root:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: bulletin_test_support::work::Counting = bulletin_test_support::work::Counting;
//! ```
//!
//! Counts are per thread, so tests running side by side do not disturb each
//! other; the code measured must do its work on the calling thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator: [`System`]'s, plus per-thread counters.
pub struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn add(size: usize) {
    // `try_with`: a thread being torn down has no counters left; nothing to count.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    let _ = BYTES.try_with(|n| n.set(n.get() + size as u64));
    let _ = LIVE.try_with(|live| {
        let now = live.get() + size as i64;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn remove(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - size as i64));
}

// SAFETY: every call is passed to `System` unchanged; the counters are
// thread-local cells that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        remove(layout.size());
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        remove(layout.size());
        add(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What a piece of code did on this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Allocations (a reallocation counts as one).
    pub allocations: u64,
    /// Bytes asked for, in all.
    pub bytes: u64,
    /// Most bytes live at once, above what was live before.
    pub peak: u64,
}

/// Runs `f` and returns its result and the work it did on this thread. Needs
/// [`Counting`] as the binary's global allocator (else every count is zero).
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Work) {
    let allocations = ALLOCATIONS.with(Cell::get);
    let bytes = BYTES.with(Cell::get);
    let live = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live));
    let out = f();
    let work = Work {
        allocations: ALLOCATIONS.with(Cell::get) - allocations,
        bytes: BYTES.with(Cell::get) - bytes,
        peak: (PEAK.with(Cell::get) - live).max(0) as u64,
    };
    (out, work)
}

/// Runs `run` on `small` and on `double` (the same kind of input, twice as
/// much) and fails unless each measure of work at most doubles, with `slack`
/// (1.25 allows 2.5 times) for buffers that grow by doubling. Counts of
/// both runs appear in the failure message.
pub fn assert_linear<I>(what: &str, small: I, double: I, slack: f64, run: impl Fn(I)) {
    let ((), before) = measure(|| run(small));
    let ((), after) = measure(|| run(double));
    assert!(
        before.allocations > 0,
        "{what}: nothing was counted; is work::Counting the global allocator?"
    );
    let limit = 2.0 * slack;
    for (name, a, b) in [
        ("allocations", before.allocations, after.allocations),
        ("bytes allocated", before.bytes, after.bytes),
        ("peak bytes", before.peak, after.peak),
    ] {
        // A measure that stays tiny (a few buffers) says nothing about growth.
        let a = a.max(64) as f64;
        assert!(
            b as f64 <= a * limit,
            "{what}: {name} grew from {a} to {b} when the input doubled (more than {limit}x): {before:?} then {after:?}"
        );
    }
}
