//! The path to 100,000 documents, in process (no emulator, no daemon): the memory that a
//! desired set and a synthetic observation of that size hold, and whether `plan_all` stays
//! linear, timed against a ten times smaller set in the same run.
//!
//! Memory is the process's own resident set from `/proc/self/status`: `VmRSS` after each
//! structure is built (the generated text and the loader's transients freed, though the
//! allocator may keep some of that resident, so these are upper bounds), and `VmHWM`, the peak
//! of the whole run. Run it in a fresh process (`--scale-only`) so that nothing else counts.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::heap;
use crate::memory::rss_and_peak;
use crate::planning::{desired_set, synthetic_observation};
use ecs_topology_core::engine::plan_all;

/// The result of the scale benchmark.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleResult {
    pub documents: usize,
    pub observed_objects: usize,
    /// `VmRSS` before anything was generated.
    pub rss_baseline_kib: u64,
    /// `VmRSS` with the desired set built (the document text dropped).
    pub rss_desired_kib: u64,
    /// `VmRSS` with the desired set and the synthetic observation.
    pub rss_desired_and_observed_kib: u64,
    /// Live heap the desired set holds (counted by the bench's allocator; `None` elsewhere).
    pub heap_desired_bytes: Option<usize>,
    /// Live heap the synthetic observation holds.
    pub heap_observed_bytes: Option<usize>,
    /// `heap_desired_bytes` per document and `heap_observed_bytes` per object.
    pub heap_bytes_per_document: Option<usize>,
    pub heap_bytes_per_object: Option<usize>,
    /// `VmHWM` of the process after generating, loading and planning the large set once.
    pub peak_rss_kib: u64,
    /// `plan_all` of the large set, median of `runs` (ms), timed in turns with the small set's.
    pub plan_all_ms: f64,
    pub runs: usize,
    /// The ten times smaller set, planned in the same run.
    pub small_documents: usize,
    pub small_plan_all_ms: f64,
    /// `plan_all_ms / small_plan_all_ms` (linear: at most 11).
    pub ratio: f64,
    /// Verbs of the large set's plans (all `InSync` against the synthetic observation).
    pub verbs: BTreeMap<String, usize>,
}

/// Builds `documents` documents and their observation, measures what they hold, and times
/// `plan_all` on them and on a tenth of them (median of `runs` each).
///
/// # Errors
/// The generated documents do not load.
pub async fn bench_scale(
    documents: usize,
    accounts: usize,
    regions: usize,
    runs: usize,
) -> anyhow::Result<ScaleResult> {
    let runs = runs.max(1);
    let (rss_baseline_kib, _) = rss_and_peak(std::process::id());
    let heap_before = heap::live();
    let (_, desired, config) = desired_set(documents, accounts, regions).await?;
    let (rss_desired_kib, _) = rss_and_peak(std::process::id());
    let heap_desired = heap::live();
    let observed = synthetic_observation(&desired);
    let (rss_desired_and_observed_kib, _) = rss_and_peak(std::process::id());
    let heap_observed = heap::live();
    let heap_desired_bytes = heap_desired
        .zip(heap_before)
        .map(|(a, b)| a.saturating_sub(b));
    let heap_observed_bytes = heap_observed
        .zip(heap_desired)
        .map(|(a, b)| a.saturating_sub(b));
    let observed_objects = crate::planning::objects_in(&observed);
    let plan = || plan_all(&desired, &observed, &config.prune, &BTreeMap::new());
    let mut verbs = BTreeMap::new();
    for p in &plan() {
        *verbs.entry(format!("{:?}", p.plan.verb)).or_insert(0) += 1;
    }
    // The peak of the large set alone, before the small one is built.
    let (_, peak_rss_kib) = rss_and_peak(std::process::id());

    // Timed in turns, so that a busy moment of the machine falls on both alike.
    let small_documents = documents / 10;
    let (_, small, small_config) = desired_set(small_documents, accounts, regions).await?;
    let small_observed = synthetic_observation(&small);
    let plan_small = || {
        plan_all(
            &small,
            &small_observed,
            &small_config.prune,
            &BTreeMap::new(),
        )
    };
    let (mut large_ms, mut small_ms) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        large_ms.push(timed_ms(|| drop(plan())));
        small_ms.push(timed_ms(|| drop(plan_small())));
    }
    let (plan_all_ms, small_plan_all_ms) = (median(large_ms), median(small_ms));
    Ok(ScaleResult {
        documents,
        observed_objects,
        rss_baseline_kib,
        rss_desired_kib,
        rss_desired_and_observed_kib,
        heap_desired_bytes,
        heap_observed_bytes,
        heap_bytes_per_document: heap_desired_bytes.map(|b| b / documents.max(1)),
        heap_bytes_per_object: heap_observed_bytes.map(|b| b / observed_objects.max(1)),
        peak_rss_kib,
        plan_all_ms,
        runs,
        small_documents,
        small_plan_all_ms,
        ratio: plan_all_ms / small_plan_all_ms.max(f64::MIN_POSITIVE),
        verbs,
    })
}

/// How long `f` takes, in milliseconds.
fn timed_ms(f: impl FnOnce()) -> f64 {
    let started = Instant::now();
    f();
    started.elapsed().as_secs_f64() * 1e3
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
