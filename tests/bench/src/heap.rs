//! The live heap of the bench's own process, counted by its allocator: what a structure holds,
//! apart from what the allocator keeps resident after it was freed (which `VmRSS` includes).
//!
//! The `ecs-topology-bench` binary installs `stats_alloc::INSTRUMENTED_SYSTEM` (the system
//! allocator, counting) as its global allocator; elsewhere (the library's tests) nothing is
//! counted and [`live`] is `None`.

use stats_alloc::INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed, when the counting allocator is the process's allocator.
pub fn live() -> Option<usize> {
    let stats = INSTRUMENTED_SYSTEM.stats();
    // A reallocation is counted in both totals already (its growth or its shrinking).
    (stats.allocations > 0).then(|| {
        stats
            .bytes_allocated
            .saturating_sub(stats.bytes_deallocated)
    })
}
