//! The live heap of the bench's own process, counted by its allocator: what a structure holds,
//! apart from what the allocator keeps resident after it was freed (which `VmRSS` includes).
//!
//! With the `count-heap` feature (the default), the `ecs-topology-bench` binary installs
//! `stats_alloc::INSTRUMENTED_SYSTEM` (the system allocator, counting) as its global allocator;
//! without it, and elsewhere (the library's tests), nothing is counted and [`live`] is `None`.

#[cfg(feature = "count-heap")]
use stats_alloc::INSTRUMENTED_SYSTEM;

/// Without the counting allocator: nothing is counted.
#[cfg(not(feature = "count-heap"))]
pub fn live() -> Option<usize> {
    None
}

/// Bytes allocated and not freed, when the counting allocator is the process's allocator.
#[cfg(feature = "count-heap")]
pub fn live() -> Option<usize> {
    let stats = INSTRUMENTED_SYSTEM.stats();
    // A reallocation is counted in both totals already (its growth or its shrinking).
    (stats.allocations > 0).then(|| {
        stats
            .bytes_allocated
            .saturating_sub(stats.bytes_deallocated)
    })
}
