//! The emulator's count of one run's calls: only the accounts of the run (its topology's and
//! the controller's own), so that runs sharing an emulator (the test suite's) never count each
//! other's calls.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ecs_topology_testkit::{Calls, Emulator};

/// The call count of a run's accounts.
#[derive(Debug, Clone)]
pub struct Meter<'a> {
    emulator: &'a Emulator,
    accounts: BTreeSet<String>,
}

impl<'a> Meter<'a> {
    pub fn new(emulator: &'a Emulator, accounts: impl IntoIterator<Item = String>) -> Meter<'a> {
        Meter {
            emulator,
            accounts: accounts.into_iter().collect(),
        }
    }

    pub fn emulator(&self) -> &'a Emulator {
        self.emulator
    }

    /// Every call the emulator has served in the run's accounts.
    pub async fn calls(&self) -> Calls {
        let mut calls = self.emulator.calls().await;
        calls.rows.retain(|r| self.accounts.contains(&r.account));
        calls
    }

    /// Waits until no call has been served for `quiet`; the count and when it last changed.
    pub async fn wait_quiet(
        &self,
        quiet: Duration,
        limit: Duration,
    ) -> anyhow::Result<(Calls, Instant)> {
        let deadline = Instant::now() + limit;
        let mut last = self.calls().await;
        let mut changed = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = self.calls().await;
            if total(&now) != total(&last) {
                last = now;
                changed = Instant::now();
            } else if changed.elapsed() >= quiet {
                return Ok((last, changed));
            }
            anyhow::ensure!(Instant::now() < deadline, "the emulator never went quiet");
        }
    }
}

/// Every call in the snapshot.
pub fn total(calls: &Calls) -> u64 {
    calls.rows.iter().map(|r| r.calls).sum()
}
