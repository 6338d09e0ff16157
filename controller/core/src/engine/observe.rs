//! One batched observation pass.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures::stream::{self, StreamExt};

use super::resource::{Patch, Resource};
use super::{DesiredSet, Observation, Scope};
use crate::kinds::{Cloud, for_kind};
use crate::model::Kind;

/// Where a pass looks for objects beyond the documents' own scopes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// Scopes and kinds to observe as well.
    pub extra: BTreeMap<Scope, BTreeSet<Kind>>,
    /// A sweep: every configured account and region, every kind, and whatever else each kind
    /// finds by the owner tag (the clusters of Express services).
    pub sweep: bool,
}

impl Search {
    /// Where objects of removed documents may be: where status records say documents were
    /// reconciled (`recorded`) and where the last pass found orphans (`orphans`); on a sweep
    /// also every account of the config (`desired.aliases`) in every region the config lists,
    /// a document uses or a record names.
    pub fn new<'a>(
        desired: &DesiredSet,
        regions: &[String],
        recorded: impl IntoIterator<Item = (Scope, Kind)>,
        orphans: impl IntoIterator<Item = (&'a Scope, Kind)>,
        sweep: bool,
    ) -> Search {
        let mut extra: BTreeMap<Scope, BTreeSet<Kind>> = BTreeMap::new();
        for (scope, kind) in recorded {
            extra.entry(scope).or_default().insert(kind);
        }
        for (scope, kind) in orphans {
            extra.entry(scope.clone()).or_default().insert(kind);
        }
        if sweep {
            let regions: BTreeSet<String> = regions
                .iter()
                .cloned()
                .chain(desired.by_scope.keys().map(|s| s.region.clone()))
                .chain(extra.keys().map(|s| s.region.clone()))
                .collect();
            let accounts: BTreeSet<&String> = desired.aliases.values().collect();
            for account in accounts {
                for region in &regions {
                    extra
                        .entry(Scope::new(account.as_str(), region.as_str()))
                        .or_default()
                        .extend(Kind::ALL);
                }
            }
        }
        Search { extra, sweep }
    }
}

/// How many scopes of kinds with large replies ([`Resource::LARGE_REPLIES`]) a pass reads at
/// once. At 10,000 documents over 20 scopes, the replies in flight when every scope was read at
/// once held 20 MB of the daemon's 100 MB peak heap (heaptrack: hyper's read buffers); the
/// other kinds' reads still run beside them, up to the pass's concurrency.
pub const LARGE_AT_ONCE: usize = 4;

/// Observes each scope once per kind it needs: the kinds of the documents there, the kinds those
/// need, and the search's extra scopes (where objects of removed documents may be); then what
/// each kind looks at beyond its scopes (what the consumers of shares see).
pub async fn observe<C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    search: &Search,
    concurrency: usize,
) -> Observation {
    let sweep = search.sweep;
    let mut wanted: BTreeMap<Scope, BTreeSet<Kind>> = search.extra.clone();
    for (scope, keys) in &desired.by_scope {
        let kinds = wanted.entry(scope.clone()).or_default();
        for key in keys {
            kinds.insert(key.kind);
            kinds.extend(for_kind!(key.kind, R => R::needs()).iter().copied());
        }
    }
    let jobs: Vec<(Scope, Kind)> = wanted
        .iter()
        .flat_map(|(scope, kinds)| kinds.iter().map(move |k| (scope.clone(), *k)))
        .collect();
    let results: Vec<Patch> = run_bounded(
        jobs,
        concurrency,
        LARGE_AT_ONCE,
        |(_, kind)| for_kind!(*kind, R => R::LARGE_REPLIES),
        |(scope, kind)| async move {
            for_kind!(kind, R => observe_scope::<R, C>(cloud, desired, scope, sweep).await)
        },
    )
    .await;
    let mut observation = Observation::new(&desired.controller);
    for patch in results {
        patch(&mut observation);
    }
    for kind in Kind::ALL {
        let more =
            for_kind!(kind, R => R::observe_more(cloud, desired, &observation, concurrency).await);
        if let Some(patch) = more {
            patch(&mut observation);
        }
    }
    observation
}

/// Runs `jobs`, `concurrency` at a time, of which at most `large_at_once` that `large` says are
/// large; their results in the order they finish.
async fn run_bounded<J, T, Fut>(
    jobs: Vec<J>,
    concurrency: usize,
    large_at_once: usize,
    large: impl Fn(&J) -> bool,
    run: impl Fn(J) -> Fut,
) -> Vec<T>
where
    Fut: Future<Output = T>,
{
    let permits = tokio::sync::Semaphore::new(large_at_once.max(1));
    let (permits, run) = (&permits, &run);
    stream::iter(jobs)
        .map(|job| {
            let is_large = large(&job);
            async move {
                // Held while the job runs; the semaphore is never closed, so this cannot fail.
                let _permit = if is_large {
                    permits.acquire().await.ok()
                } else {
                    None
                };
                run(job).await
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Observes `R` in one scope; the result, or the failure, as a patch of the observation.
pub(crate) async fn observe_scope<R: Resource, C: Cloud>(
    cloud: &C,
    desired: &DesiredSet,
    scope: Scope,
    sweep: bool,
) -> Patch {
    match R::observe(cloud, desired, &scope, sweep).await {
        Ok(scan) => Box::new(move |o: &mut Observation| R::store(scan, o, scope)),
        Err(e) => Box::new(move |o: &mut Observation| {
            o.failed.insert((scope, R::KIND), e);
        }),
    }
}

/// Looks at each of `scopes`, `concurrency` at a time, and makes a patch that keeps what each
/// look found (`keep`); `None` when there is nothing to look at. For what a kind observes after
/// every scope was (`Resource::observe_more`).
pub async fn look_per_scope<T, Fut>(
    scopes: BTreeSet<Scope>,
    concurrency: usize,
    look: impl Fn(Scope) -> Fut,
    keep: fn(&mut Observation, Scope, T),
) -> Option<Patch>
where
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    if scopes.is_empty() {
        return None;
    }
    let results: Vec<(Scope, T)> = stream::iter(scopes)
        .map(|scope| {
            let found = look(scope.clone());
            async move { (scope, found.await) }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    Some(Box::new(move |observation: &mut Observation| {
        for (scope, found) in results {
            keep(observation, scope, found);
        }
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::run_bounded;

    #[tokio::test(start_paused = true)]
    async fn large_jobs_run_a_few_at_a_time_while_the_others_fill_the_concurrency() {
        // Running now and the most at once: large jobs, then all jobs.
        let seen = Arc::new(Mutex::new([0_usize; 4]));
        let step = |seen: &Mutex<[usize; 4]>, is_large: bool, by: isize| {
            let mut s = seen.lock().unwrap();
            for (now, most) in [(2, 3)].into_iter().chain(is_large.then_some((0, 1))) {
                s[now] = s[now].checked_add_signed(by).unwrap();
                s[most] = s[most].max(s[now]);
            }
        };
        // Twenty scopes of a large kind and twenty of a small one, as a pass lists them.
        let jobs: Vec<(usize, bool)> = (0..40).map(|i| (i, i % 2 == 0)).collect();
        let mut done = run_bounded(
            jobs,
            32,
            4,
            |(_, is_large)| *is_large,
            |(i, is_large)| {
                let seen = seen.clone();
                async move {
                    step(&seen, is_large, 1);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    step(&seen, is_large, -1);
                    i
                }
            },
        )
        .await;
        done.sort_unstable();
        assert_eq!(done, (0..40).collect::<Vec<_>>(), "every job ran once");
        let [_, large_most, _, all_most] = *seen.lock().unwrap();
        assert_eq!(
            large_most, 4,
            "at most four large jobs at once, and four did run at once"
        );
        assert!(
            all_most > 4 + 4,
            "the small jobs ran beside the large ones: {all_most}"
        );
    }
}
